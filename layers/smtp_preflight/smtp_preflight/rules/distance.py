"""How many typing slips apart two host names are: the catalogue (`providers`) and the typo spotter
(`typos`) both measure it, so it stands below both."""

SLIP_DISTANCE = 1  # inside a provider's own domain: `smpt.gmail.com` is a slip, `imap.gmail.com` is not


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
