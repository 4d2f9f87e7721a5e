/// AttendTokenizers: tokenizer pipelines read from tokenizer.json.
public enum AttendTokenizersInfo {}
