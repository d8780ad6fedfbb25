"""Command-line tools that turn raw datasets into the MindRecord files the trainers read."""
