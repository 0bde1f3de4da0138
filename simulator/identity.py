"""Deterministic hashing and realistic SIM identities (ICCID, IMSI, MSISDN, IMEI, IP)."""

# 1NCE ICCIDs, IMSIs and MSISDNs share a 7-digit serial (seen in recorded traffic):
# ICCID 898822806660<serial>, IMSI 90140510<serial>, MSISDN 88228510<serial>.
ICCID_PREFIX = "898822806660"
IMSI_PREFIX = "90140510"
MSISDN_PREFIX = "88228510"
SERIAL_DIGITS = 7

# Type allocation codes of common IoT modules; the rest of an IMEI is a serial plus Luhn.
DEVICE_TACS = ("35332811", "86823905", "35917310", "35284710", "86769304", "35473708")


MASK64 = (1 << 64) - 1
GOLDEN64 = 0x9E3779B97F4A7C15


def mix64(value: int) -> int:
    """The splitmix64 finaliser: a fast, well-spread 64-bit integer hash."""
    value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9 & MASK64
    value = (value ^ (value >> 27)) * 0x94D049BB133111EB & MASK64
    return value ^ (value >> 31)


def digest(*parts: int) -> tuple[int, int]:
    """Two independent 64-bit numbers derived from integer parts (stable across runs)."""
    state = GOLDEN64
    for part in parts:
        state = ((state ^ (part & MASK64)) * 0x100000001B3 + GOLDEN64) & MASK64
    first = mix64(state)
    return first, mix64(first ^ GOLDEN64)


def luhn_digit(digits: str) -> str:
    """The Luhn check digit that makes `digits` + digit valid."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    """Whether `number` ends with a correct Luhn check digit."""
    return number.isdigit() and luhn_digit(number[:-1]) == number[-1]


def iccid_for(serial: int) -> str:
    """The 19-digit ICCID (without check digit) as the v1 API reports it."""
    return f"{ICCID_PREFIX}{serial:0{SERIAL_DIGITS}d}"


def serial_of(iccid: str) -> int | None:
    """The serial inside an ICCID of this fleet's range, or None for a foreign one."""
    if len(iccid) != len(ICCID_PREFIX) + SERIAL_DIGITS or not iccid.startswith(ICCID_PREFIX):
        return None
    tail = iccid[len(ICCID_PREFIX) :]
    return int(tail) if tail.isdigit() else None


def imsi_for(serial: int) -> str:
    """The 15-digit IMSI (MCC 901, MNC 40 is 1NCE's international range)."""
    return f"{IMSI_PREFIX}{serial:0{SERIAL_DIGITS}d}"


def msisdn_for(serial: int) -> str:
    """The 15-digit MSISDN in the international +882 range."""
    return f"{MSISDN_PREFIX}{serial:0{SERIAL_DIGITS}d}"


def imei_for(seed: int, index: int) -> str:
    """A 15-digit IMEI with a real-looking TAC and a valid Luhn digit."""
    first, second = digest(seed, index, 0x1E1)
    body = DEVICE_TACS[first % len(DEVICE_TACS)] + f"{second % 1_000_000:06d}"
    return body + luhn_digit(body)


def ip_address_for(index: int) -> str:
    """A fixed private IPv4 address, unique per SIM (1NCE assigns one per SIM)."""
    return f"10.{192 + (index >> 16) % 64}.{(index >> 8) & 255}.{index & 255}"


def index_of_ip(address: str) -> int | None:
    """The SIM index an address from `ip_address_for` belongs to."""
    parts = address.split(".")
    if len(parts) != 4 or parts[0] != "10" or not all(part.isdigit() for part in parts):
        return None
    second, third, fourth = (int(part) for part in parts[1:])
    if not (192 <= second < 256 and third < 256 and fourth < 256):
        return None
    return ((second - 192) << 16) | (third << 8) | fourth
