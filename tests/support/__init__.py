"""What the tests and the benchmarks share: the data beside the checkout, a real Streamlit server and
headless chromium with a fake camera, a real redis-server, and the soak. It imports nothing from
tests/ or bench/; both import from it.
"""
