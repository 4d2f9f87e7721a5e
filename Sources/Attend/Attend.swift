@_exported import AttendTensor
@_exported import AttendNN
@_exported import AttendTokenizers
@_exported import AttendModels
@_exported import AttendSearch
@_exported import AttendViz
