"""Process housekeeping: returning freed heap to the OS, smaller TLS read buffers, owning child processes."""
