"""Static reference data of the simulated network: operators, products, limit options."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Network:
    """A visited network: operator and country as the /status and event payloads name them."""

    operator_id: int
    operator: str
    country_id: int
    country: str
    iso_code: str
    country_code: str
    mcc: str
    mnc: str
    latitude: str
    longitude: str
    sgsn_ip_address: str
    sgsn_number: str


NETWORKS = (
    Network(
        3,
        "Telekom",
        74,
        "Germany",
        "de",
        "49",
        "262",
        "01",
        "51.000000",
        "9.000000",
        "80.156.0.10",
        "4917100123",
    ),
    Network(
        90,
        "Plus",
        157,
        "Poland",
        "pl",
        "48",
        "260",
        "01",
        "52.000000",
        "20.000000",
        "92.60.128.122",
        "48601000738",
    ),
    Network(
        51,
        "KPN",
        140,
        "Netherlands",
        "nl",
        "31",
        "204",
        "08",
        "52.500000",
        "5.750000",
        "145.7.3.21",
        "31653100012",
    ),
    Network(
        64,
        "Orange",
        68,
        "France",
        "fr",
        "33",
        "208",
        "01",
        "46.000000",
        "2.000000",
        "193.253.0.44",
        "33689004000",
    ),
    Network(
        22,
        "Movistar",
        195,
        "Spain",
        "es",
        "34",
        "214",
        "07",
        "40.000000",
        "-4.000000",
        "213.0.89.6",
        "34609090111",
    ),
    Network(
        12,
        "TIM",
        100,
        "Italy",
        "it",
        "39",
        "222",
        "01",
        "42.833333",
        "12.833333",
        "151.5.0.20",
        "39335009000",
    ),
    Network(
        87,
        "Vodafone",
        222,
        "United Kingdom",
        "gb",
        "44",
        "234",
        "15",
        "54.000000",
        "-2.000000",
        "212.183.140.5",
        "44385016000",
    ),
    Network(
        120,
        "AT&T",
        223,
        "United States",
        "us",
        "1",
        "310",
        "410",
        "38.000000",
        "-97.000000",
        "166.216.0.9",
        "13123150000",
    ),
)

# Label vocabulary; a few labels carry markup characters on purpose (UIs must escape them).
LABEL_THINGS = ("Meter", "Tracker", "Pump", "Gateway", "Sensor", "Cooler", "Locker", "Charger")
LABEL_SITES = ("Hamburg", "Köln", "Lyon", "Gdańsk", "Rotterdam", "Sevilla", "Torino", "Leeds")
AWKWARD_LABELS = ("Kühlhaus <B2> & Co", 'Pump "North" #7', "<script>alert(1)</script>")

MO_PAYLOADS = ("BAT=87;T=21.4", "HELLO", "STATUS OK", "ALARM DOOR", "GPS 53.55,9.99", "PING")

PRODUCTS = (
    {
        "id": 1001,
        "product": "1NCE IoT FlexSIM - Standard",
        "material": "1NCE-FLEX-STD",
        "package_size": 1,
        "minQuantity": 1,
        "maxQuantity": 1000,
        "maxQuantityPerCustomer": 100000,
        "min_contract_duration": 120,
        "one_time_charges": [
            {"name": "1NCE Lifetime Flat", "amount_net": "10.00", "currency": "EUR"}
        ],
        "recurring_charges": [],
    },
    {
        "id": 1002,
        "product": "1NCE IoT FlexSIM - Industrial",
        "material": "1NCE-FLEX-IND",
        "package_size": 1,
        "minQuantity": 1,
        "maxQuantity": 1000,
        "maxQuantityPerCustomer": 100000,
        "min_contract_duration": 120,
        "one_time_charges": [
            {"name": "1NCE Lifetime Flat", "amount_net": "14.00", "currency": "EUR"}
        ],
        "recurring_charges": [],
    },
    {
        "id": 2001,
        "product": "1NCE Top-up 500 MB / 250 SMS",
        "material": "1NCE-TOPUP",
        "package_size": 1,
        "minQuantity": 1,
        "maxQuantity": 1,
        "maxQuantityPerCustomer": 100000,
        "min_contract_duration": 0,
        "one_time_charges": [{"name": "Top-up", "amount_net": "10.00", "currency": "EUR"}],
        "recurring_charges": [],
    },
)

# Selectable self-set monthly limits per service (GET /v1/sims/{service}/limits).
LIMIT_OPTIONS: dict[str, tuple[dict[str, Any], ...]] = {
    "data": (
        {"id": 1, "limit": "16", "unit": "MB"},
        {"id": 2, "limit": "50", "unit": "MB"},
        {"id": 3, "limit": "250", "unit": "MB"},
        {"id": 4, "limit": "1000", "unit": "MB"},
    ),
    "smsMO": ({"id": 11, "limit": "10", "unit": "SMS"}, {"id": 12, "limit": "250", "unit": "SMS"}),
    "smsMT": ({"id": 21, "limit": "10", "unit": "SMS"}, {"id": 22, "limit": "250", "unit": "SMS"}),
}
