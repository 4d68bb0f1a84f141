"""Engine, sessions, the declarative Base and column types shared by every feature's tables."""
