"""An analytics session with driftrec on the bundled MovieLens sample, end to end:

1. build a store from pandas DataFrames (ratings.csv; movies.csv genres as item labels),
2. propagate genre labels over the monthly user x movie graphs and follow one user's
   interests over time,
3. fit implicit ALS on the whole log, recommend movies to that user and find movies
   similar to one they rated,
4. run the CLI's jobs from Python on the ratings since 2016 sliced by quarter: train the
   sequence model, predict the most active user's genres for the next quarter, and run the
   temporal evaluation of every model on the last two quarters.

    python examples/python/analytics_session.py [--data DIR] [--user 414] [--store out.h5] [--threads N]
"""

import argparse
import pathlib
import tempfile

import numpy as np
import pandas as pd
import scipy.sparse as sp

import driftrec

DATA = pathlib.Path(__file__).resolve().parents[2] / "data" / "movielens-latest-small"


def month(seconds):
    return np.datetime64(int(seconds), "s").astype("datetime64[M]")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=pathlib.Path, default=DATA, help="folder with ratings.csv and movies.csv")
    parser.add_argument("--user", default="414", help="MovieLens userId to follow")
    parser.add_argument("--store", type=pathlib.Path, help="where to write the store (default: a temporary folder)")
    parser.add_argument("--threads", type=int, default=0, help="threads of the jobs in step 4 (0: all cores)")
    args = parser.parse_args()

    ratings = pd.read_csv(args.data / "ratings.csv")
    movies = pd.read_csv(args.data / "movies.csv").set_index("movieId")
    # One (item, label) row per genre; "(no genres listed)" is no label.
    genres = movies.genres.str.split("|").explode().rename("label").reset_index()
    genres = genres[genres.label != "(no genres listed)"].rename(columns={"movieId": "item"})

    with tempfile.TemporaryDirectory() as tmp:
        path = args.store or pathlib.Path(tmp) / "movielens.h5"
        store = driftrec.Store.from_dataframe(path, ratings, user="userId", item="movieId", time="timestamp",
                                              value="rating", labels=genres, slice="month", force=True)
        print(store)
        report = store.ingest_report
        print(f"  {report['labelled_items']} movies labelled with {report['labels']} genres; "
              f"{report['label_rows_for_unknown_items']} genre rows for unrated movies ignored")

        # 2. Interests per month: F_U(t), each row a distribution over genres.
        result = driftrec.propagate(store, alpha=0.85, gamma=0.5, mu=0.5)
        print(f"\npropagation: {len(result)} months, {int(result.converged.sum())} converged, "
              f"at most {int(result.iterations.max())} iterations")
        user = store.user_index(args.user)
        history = result.user_history(user)
        active = np.flatnonzero(store.events.user == user)
        active_months = {month(t) for t in store.events.time[active]}
        print(f"user {args.user}: {len(active)} ratings in {len(active_months)} months; "
              f"top genres in the months they rated:")
        shown = 0
        for k, begin in enumerate(result.periods.begin):
            if month(begin) not in active_months:
                continue
            top = np.argsort(-history[k])[:3]
            print(f"  {month(begin)}  " + ", ".join(f"{result.labels[g]} {history[k, g]:.2f}" for g in top))
            shown += 1
            if shown == 8:
                print(f"  ... ({len(active_months) - shown} more months)")
                break

        # 3. ALS on the whole log: one users x movies matrix of summed ratings.
        e = store.events
        user_items = sp.csr_matrix((e.value, (e.user, e.item)), shape=(store.n_users, store.n_items))
        model = driftrec.ALS(factors=32, regularization=0.05, alpha=1.0, iterations=10, random_state=0)
        model.fit(user_items)
        ids, scores = model.recommend(user, user_items[user], N=5)
        print(f"\nALS ({model.factors} factors): recommended to user {args.user}")
        for i, s in zip(ids, scores):
            print(f"  {s:6.3f}  {movies.title[int(store.items[i])]}")

        favourite = user_items[user].indices[np.argmax(user_items[user].data)]
        ids, scores = model.similar_items(favourite, N=6)
        print(f"movies similar to {movies.title[int(store.items[favourite])]} (cosine of factors):")
        for i, s in zip(ids[1:], scores[1:]):
            print(f"  {s:6.3f}  {movies.title[int(store.items[i])]}")
        store.close()

        # 4. The jobs of the CLI (driftrec train / predict / evaluate), same options and
        # results. A recent slice of the log keeps the evaluation short.
        recent = ratings[ratings.timestamp >= pd.Timestamp("2016-01-01").timestamp()]
        quarters = driftrec.Store.from_dataframe(
            pathlib.Path(tmp) / "recent.h5", recent, user="userId", item="movieId", time="timestamp",
            value="rating", labels=genres, slice="quarter", force=True)
        summary = driftrec.train(quarters, epochs=10, seed=0, threads=args.threads)
        print(f"\nsequence model ({summary['cell']}) on {summary['periods']} quarters since 2016: "
              f"{summary['epochs_run']} epochs, validation loss {summary['best_validation_loss']:.3f}")
        active_user = recent.userId.value_counts().index[0]
        prediction = driftrec.predict(quarters, active_user, top=3)
        print(f"user {active_user}, next quarter: " + ", ".join(
            f"{label} {p:.2f}{' (new)' if new else ''}"
            for label, p, new in zip(prediction.labels, prediction.probabilities, prediction.new)))
        report = driftrec.evaluate(quarters, test_periods=2, k=10, threads=args.threads)
        rows = [r for r in report["results"] if r["metric"] == "recall@10"]
        print(f"evaluation on the last 2 quarters, recall@10 over {rows[0]['users']} users:")
        for r in sorted(rows, key=lambda r: -r["value"])[:5]:
            print(f"  {r['model']:<20} {r['value']:.3f}  [{r['ci95'][0]:.3f}, {r['ci95'][1]:.3f}]")
        quarters.close()


if __name__ == "__main__":
    main()
