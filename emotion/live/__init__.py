"""Live video through streamlit-webrtc: the browser's webcam frames through the core pipeline and back.

stream      LiveStream, the per-session frame callback and its figures (no Streamlit)
component   the WebRTC component on a page, a session's stream, starts that cannot connect
ice         which STUN/TURN servers WebRTC uses
relay       newest-frame relay between the server's tracks
memory      keeping the server's memory flat as streams come and go
workarounds every use of a library's private API, with the contract it relies on
"""
