"""A live camera on a page, both ways: its frames read on the server (streamlit-webrtc) or in the browser.

stream      LiveStream, the per-session frame callback and its figures (no Streamlit)
component   the WebRTC component on a page, a session's stream, starts that cannot connect
device      the on-device camera component (static/ondevice/camera.js): only figures come back; the self view
ice         which STUN/TURN servers WebRTC uses
relay       newest-frame relay between the server's tracks
memory      keeping the server's memory flat as streams come and go
workarounds every use of a library's private API, with the contract it relies on
"""
