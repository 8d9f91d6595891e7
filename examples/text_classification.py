"""Text classification from raw strings: TextVectorization -> Embedding -> pooling -> Dense.

The model takes Python strings: `keras.layers.TextVectorization` (adapted on the training
texts) lowercases, strips punctuation, splits and maps words and word pairs (`ngrams=2`,
so that "not good" is a token of its own) to integer ids; kerax runs
this string layer on the host and the rest of the model in the compiled fit loop, so
`fit` and `predict` take a NumPy array of `str` directly.

By default the corpus is a generated, offline set of short product reviews whose
sentiment follows from their words (with negations such as "not good"); `--data imdb`
uses `keras.datasets.imdb` (downloaded once), decoded back to strings.

Run:  python examples/text_classification.py       (--quick: a few seconds on a CPU)
"""

import argparse

import numpy as np

import kerax as keras

POSITIVE = ["good", "great", "excellent", "lovely", "wonderful", "perfect", "fantastic",
            "reliable", "comfortable", "delightful"]
NEGATIVE = ["bad", "awful", "terrible", "poor", "horrible", "broken", "disappointing",
            "flimsy", "useless", "annoying"]
NEUTRAL = ["the", "this", "product", "item", "it", "was", "really", "quite", "and",
           "arrived", "yesterday", "overall", "i", "think", "my", "order", "package"]
SUBJECTS = ["The battery", "This phone", "The delivery", "My new chair", "The lamp",
            "This kettle", "The service", "The headphones", "Our tent", "The blender"]


def synthetic_reviews(n, seed=0):
    """`n` short reviews and their labels (1 positive, 0 negative)."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        label = int(rng.integers(2))
        words, negated = [], bool(rng.random() < 0.25)
        sentiment = label ^ negated  # "not good" is negative, "not bad" positive
        for _ in range(rng.integers(1, 3)):
            words.append(rng.choice(POSITIVE if sentiment else NEGATIVE))
        filler = list(rng.choice(NEUTRAL, size=rng.integers(2, 8)))
        adjective = ("not " if negated else "") + " and ".join(words)
        text = (f"{rng.choice(SUBJECTS)} is {adjective}! " + " ".join(filler) + ".")
        texts.append(text.capitalize() if rng.random() < 0.5 else text.upper())
        labels.append(label)
    return np.array(texts), np.array(labels, dtype="float32")


def imdb_reviews():
    """IMDB reviews as strings, decoded from `keras.datasets.imdb`'s word ids."""
    (x_train, y_train), (x_test, y_test) = keras.datasets.imdb.load_data(num_words=20000)
    words = {i + 3: w for w, i in keras.datasets.imdb.get_word_index().items()}
    decode = lambda ids: " ".join(words.get(i, "") for i in ids if i >= 3)
    texts = np.array([decode(ids) for ids in list(x_train) + list(x_test)])
    return texts, np.concatenate([y_train, y_test]).astype("float32")


def build_model(train_texts, max_tokens, sequence_length, embedding_dim):
    vectorize = keras.layers.TextVectorization(
        max_tokens=max_tokens, output_mode="int", ngrams=2,
        output_sequence_length=sequence_length)
    vectorize.adapt(train_texts)
    model = keras.Sequential([
        keras.Input(shape=(), dtype="string"),
        vectorize,
        keras.layers.Embedding(max_tokens, embedding_dim),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    return model, vectorize


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small corpus, few epochs")
    parser.add_argument("--data", choices=["synthetic", "imdb"], default="synthetic")
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)

    if args.data == "imdb":
        texts, labels = imdb_reviews()
        max_tokens, sequence_length = 20000, 400
    else:
        texts, labels = synthetic_reviews(1000 if args.quick else 10000)
        max_tokens, sequence_length = 1000, 48
    order = np.random.default_rng(0).permutation(len(texts))
    texts, labels = texts[order], labels[order]
    n_test = len(texts) // 5
    x_train, y_train = texts[n_test:], labels[n_test:]
    x_test, y_test = texts[:n_test], labels[:n_test]
    print(f"{len(x_train)} training texts, e.g. {str(x_train[0])!r} -> {int(y_train[0])}")

    model, vectorize = build_model(x_train, max_tokens, sequence_length,
                                   embedding_dim=16 if args.quick else 64)
    print(f"vocabulary: {vectorize.vocabulary_size()} tokens, "
          f"e.g. {vectorize.get_vocabulary()[:8]}")
    model.compile(optimizer=keras.optimizers.Adam(5e-3), loss="binary_crossentropy",
                  metrics=["accuracy"])
    model.summary()
    model.fit(x_train, y_train, epochs=args.epochs or (10 if args.quick else 20),
              batch_size=32, validation_split=0.1, verbose=2)

    accuracy = model.evaluate(x_test, y_test, return_dict=True, verbose=0)["accuracy"]
    probe = np.array(["The lamp is wonderful and perfect!", "The lamp is terrible."])
    scores = model.predict(probe, verbose=0)[:, 0]
    for text, score in zip(probe, scores):
        print(f"  {str(text)!r}: {score:.3f}")
    print(f"test accuracy: {accuracy:.4f}")
    assert accuracy > 0.85, f"test accuracy {accuracy:.4f} should be well above chance (0.5)"
    return accuracy


if __name__ == "__main__":
    main()
