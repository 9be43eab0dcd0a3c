#!/bin/sh
# Heroku: write Streamlit's server settings for the port Heroku assigns. The project's own
# .streamlit/config.toml (upload limit, theme) still applies on top of this user-level file.
set -e
mkdir -p "$HOME/.streamlit"
cat > "$HOME/.streamlit/config.toml" <<CONFIG
[server]
headless = true
port = ${PORT:-8501}
address = "0.0.0.0"

[browser]
gatherUsageStats = false
CONFIG
