"""How many typing slips apart two host names are: the catalogue (`providers`) and the typo spotter
(`typos`) both measure it, so it stands below both."""

SLIP_DISTANCE = 1  # inside a provider's own domain: `smpt.gmail.com` is a slip, `imap.gmail.com` is not


def within_edits(left: str, right: str, limit: int) -> bool:
    """At most `limit` edits apart. Every caller asks this, for a handful of edits: names whose lengths
    differ by more are that far apart already (each insertion or deletion changes the length by one), so
    most of a catalogue is passed over without filling a table (it was ~8 ms of CPU per checked host)."""
    return abs(len(left) - len(right)) <= limit and edit_distance(left, right) <= limit


def edit_distance(left: str, right: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment): edits incl. swapping two neighbours.

    Written here because the standard library has only similarity ratios (difflib), which do not
    count a transposition such as `gmial` for `gmail` as the single slip it is.
    """
    previous2: list[int] = []
    previous = list(range(len(right) + 1))
    for i, left_char in enumerate(left, start=1):
        current = [i] + [0] * len(right)
        for j, right_char in enumerate(right, start=1):
            cost = 0 if left_char == right_char else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and left_char == right[j - 2] and left[i - 2] == right_char:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]
