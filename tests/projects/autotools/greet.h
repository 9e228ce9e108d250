const char *greet_version(void);
