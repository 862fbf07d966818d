"""Process housekeeping: returning freed heap to the OS, and smaller TLS read buffers."""
