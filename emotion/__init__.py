"""Live face-emotion recognition: detection, classification, the frame pipeline and its tools."""
