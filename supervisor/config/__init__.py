"""Configuration: file < environment < flags, validated into the settings the rest runs on."""
