@_exported import AttendModels
