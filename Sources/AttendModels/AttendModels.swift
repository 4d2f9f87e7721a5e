import AttendNN
