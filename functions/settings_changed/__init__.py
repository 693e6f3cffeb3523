"""The event worker function (`app.lambda_handler`).

Its cold start runs with the cyclic garbage collector paused, as the API's does (see
`check_api/__init__.py`): `app.py` freezes what the init built and resumes it.
"""

import gc

gc.disable()  # resumed by app.py once imported
