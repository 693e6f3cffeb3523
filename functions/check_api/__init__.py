"""The HTTPS API function (`app.lambda_handler`).

Its cold start runs with the cyclic garbage collector paused: the imports build ~90,000 objects that live
as long as the process, and collecting among them while they are built cost ~10% of the import. `app.py`
freezes them (`gc.freeze`: later collections, during invocations, no longer walk them) and resumes it.
"""

import gc

gc.disable()  # resumed by app.py once imported
