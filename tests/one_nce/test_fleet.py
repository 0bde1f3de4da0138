"""The issue's "done when": page a 10,000-SIM fleet and read a few SIMs, paced, with no 429."""

import time

RATE = 50.0


def test_page_a_large_fleet_and_read_a_few_sims(make_client, make_simulator):
    simulator = make_simulator(sims=10_000, rps=RATE)
    api = make_client(simulator, max_rps=RATE)
    started = time.monotonic()

    seen = rejected = 0
    sample = []
    for page in api.list_sims():
        seen += len(page.records)
        rejected += len(page.rejects)
        if page.number % 25 == 1:
            sample.append(page.records[0].iccid)
    assert (seen, rejected) == (10_000, 0)

    for iccid in sample:
        assert api.get_usage(iccid)
        assert api.get_data_quota(iccid).total_volume
        assert api.get_sms_quota(iccid).total_volume
        list(api.list_events(iccid))

    stats = simulator.stats()
    assert stats["status_429"] == 0
    assert stats["peak_rps"] <= RATE
    print(
        f"\n10,000 SIMs + {len(sample)} SIMs' readings: {stats['requests']} calls in "
        f"{time.monotonic() - started:.1f} s, peak {stats['peak_rps']} rps"
    )
