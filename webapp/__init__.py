"""The Streamlit web app: app.py builds the navigation, each page lives in webapp/pages.

resources  what every session shares: the models, the room store, secrets
widgets    controls and wording the pages share
charts     emotion charts in the label colours
pages      live, photo, join (students), teach (teachers), about
"""
