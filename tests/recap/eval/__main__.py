"""Print the evaluation set's figures: ``python -m tests.recap.eval``."""

from __future__ import annotations

from tests.recap.eval.chats import all_chats, figures


def main() -> None:
    totals = [0, 0, 0, 0, 0, 0]
    print(f"{'chat':20} {'named':>5} {'top3':>5} {'top5':>5} {'top10':>5} {'phrases':>8}  groups")
    for chat in all_chats():
        f = figures(chat)
        recap = chat.recap()
        groups = ", ".join(f"{q} {p:.0%}" for q, p in f.purity.items())
        print(
            f"{f.chat:20} {f.named:5} {f.top3:5} {f.top5:5} {f.top10:5} "
            f"{f.phrases_found:>4}/{f.phrases_named:<3}  {groups}"
        )
        print(f"  themes:  {', '.join(recap.themes)}")
        print(f"  phrases: {', '.join(recap.phrases)}")
        for q in recap.questions:
            for g in q.groups:
                print(f"  {q.id} [{g.label}] {g.size}: {g.quote.text}")
        for i, n in enumerate((f.named, f.top3, f.top5, f.top10, f.phrases_found, f.phrases_named)):
            totals[i] += n
    named, t3, t5, t10, pf, pn = totals
    print(f"{'all':20} {named:5} {t3:5} {t5:5} {t10:5} {pf:>4}/{pn:<3}")


if __name__ == "__main__":
    main()
