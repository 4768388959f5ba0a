"""routing: decides the organ responsible for each petition from a versioned rules table."""
