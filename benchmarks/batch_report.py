"""batch.py's results: one `Run` a process, the best of repeated runs, the table and the goals."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Run:
    runner: str
    rows: int
    seconds: float
    cpu_seconds: float  # every thread of the runner's process, over the same span
    peak_rss_mib: float
    wall: float  # the whole process, imports and model load included


def best(runs: list[Run]) -> Run:
    fastest = min(runs, key=lambda r: r.seconds)
    return Run(
        fastest.runner,
        fastest.rows,
        fastest.seconds,
        min(r.cpu_seconds for r in runs),
        max(r.peak_rss_mib for r in runs),
        min(r.wall for r in runs),
    )


def table(results: dict[tuple[int, str], Run]) -> list[str]:
    lines = [
        "| rows | runner | seconds | rows/s | x floor | x naive | CPU s | peak RSS MiB "
        "| process wall s |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for (size, runner), run in results.items():
        speed = run.rows / run.seconds
        floor = results[(size, "floor")]
        naive = results[(size, "naive")]
        x_floor = speed / (floor.rows / floor.seconds)
        x_naive = speed / (naive.rows / naive.seconds)
        lines.append(
            f"| {size:,} | {runner} | {run.seconds:.2f} | {speed:,.0f} | {x_floor:.2f} | "
            f"{x_naive:.2f} | {run.cpu_seconds:.2f} | {run.peak_rss_mib:,.0f} | {run.wall:.1f} |"
        )
    return lines


def goals(results: dict[tuple[int, str], Run], sizes: list[int]) -> list[str]:
    def speed(size: int, runner: str) -> float:
        run = results[(size, runner)]
        return run.rows / run.seconds

    lines = []
    for size in sizes:
        x_floor = speed(size, "score") / speed(size, "floor")
        x_naive = speed(size, "score") / speed(size, "naive")
        lines.append(
            f"{size:,} rows: score/floor {x_floor:.2f} (goal >= 0.8: "
            f"{'met' if x_floor >= 0.8 else 'NOT met'}), score/naive {x_naive:.2f} "
            f"(goal >= 3: {'met' if x_naive >= 3 else 'NOT met'})"
        )
    small, large = results[(sizes[0], "score")], results[(sizes[-1], "score")]
    # Within 5%: the allocator's peaks wander by a few MiB between identical runs.
    flat = large.peak_rss_mib <= small.peak_rss_mib * 1.05
    lines.append(
        f"score peak RSS {large.peak_rss_mib:,.0f} MiB at {sizes[-1]:,} rows vs "
        f"{small.peak_rss_mib:,.0f} MiB at {sizes[0]:,} (goal: no higher, within 5%: "
        f"{'met' if flat else 'NOT met'})"
    )
    return lines


def stages_lines(stages: dict) -> list[str]:
    """Where `modelops score`'s CPU goes, from the stages worker's result."""
    total = sum(stages["cpu"].values())
    lines = [
        f"\nwhere modelops score's CPU goes ({stages['rows']:,} rows, stages run one after "
        f"another, {total:.2f} CPU s):"
    ]
    for stage, seconds in stages["cpu"].items():
        lines.append(f"  {stage:<9s} {seconds:6.2f} s  {seconds / total:6.1%}")
    return lines
