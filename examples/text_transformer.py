"""A Transformer text classifier: TextVectorization -> token + position embedding ->
a self-attention block -> pooling -> Dense, written with Keras-style custom layers.

Unlike a bag of words, self-attention sees word order, so it learns negations ("not good"
is negative) from single words alone (`ngrams=None`, compare with
`text_classification.py`, which needs word pairs). The corpus is the same generated set
of short reviews; `--data imdb` uses `keras.datasets.imdb`, decoded back to strings.

Run:  python examples/text_transformer.py          (--quick: under a minute on a CPU)
"""

import argparse

import numpy as np

import kerax as keras
from text_classification import imdb_reviews, synthetic_reviews

ops = keras.ops


class TokenAndPositionEmbedding(keras.layers.Layer):
    """Token embedding plus a learned embedding of each position."""

    def __init__(self, sequence_length, vocab_size, embed_dim, **kwargs):
        super().__init__(**kwargs)
        self.sequence_length, self.vocab_size, self.embed_dim = (
            sequence_length, vocab_size, embed_dim)
        self.token_emb = keras.layers.Embedding(vocab_size, embed_dim)
        self.pos_emb = keras.layers.Embedding(sequence_length, embed_dim)

    def call(self, x):
        positions = ops.arange(0, ops.shape(x)[-1], 1)
        return self.token_emb(x) + self.pos_emb(positions)

    def get_config(self):
        return {**super().get_config(), "sequence_length": self.sequence_length,
                "vocab_size": self.vocab_size, "embed_dim": self.embed_dim}


class TransformerBlock(keras.layers.Layer):
    """Multi-head self-attention and a feed-forward network, each with a residual."""

    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.embed_dim, self.num_heads, self.ff_dim, self.rate = (
            embed_dim, num_heads, ff_dim, rate)
        self.att = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential([keras.layers.Dense(ff_dim, activation="relu"),
                                     keras.layers.Dense(embed_dim)])
        self.norm1 = keras.layers.LayerNormalization(epsilon=1e-6)
        self.norm2 = keras.layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = keras.layers.Dropout(rate)
        self.dropout2 = keras.layers.Dropout(rate)

    def call(self, inputs, training=False):
        attention = self.dropout1(self.att(inputs, inputs), training=training)
        x = self.norm1(inputs + attention)
        return self.norm2(x + self.dropout2(self.ffn(x), training=training))

    def get_config(self):
        return {**super().get_config(), "embed_dim": self.embed_dim,
                "num_heads": self.num_heads, "ff_dim": self.ff_dim, "rate": self.rate}


def build_model(train_texts, max_tokens, sequence_length, embed_dim, num_heads, ff_dim):
    vectorize = keras.layers.TextVectorization(
        max_tokens=max_tokens, output_mode="int", output_sequence_length=sequence_length)
    vectorize.adapt(train_texts)
    inputs = keras.Input(shape=(), dtype="string")
    x = vectorize(inputs)
    x = TokenAndPositionEmbedding(sequence_length, max_tokens, embed_dim)(x)
    x = TransformerBlock(embed_dim, num_heads, ff_dim)(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    x = keras.layers.Dropout(0.1)(x)
    x = keras.layers.Dense(32, activation="relu")(x)
    outputs = keras.layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small corpus, few epochs")
    parser.add_argument("--data", choices=["synthetic", "imdb"], default="synthetic")
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)

    if args.data == "imdb":
        texts, labels = imdb_reviews()
        max_tokens, sequence_length = 20000, 200
    else:
        texts, labels = synthetic_reviews(1500 if args.quick else 10000)
        max_tokens, sequence_length = 200, 24
    order = np.random.default_rng(0).permutation(len(texts))
    texts, labels = texts[order], labels[order]
    n_test = len(texts) // 5
    x_train, y_train = texts[n_test:], labels[n_test:]
    x_test, y_test = texts[:n_test], labels[:n_test]

    model = build_model(x_train, max_tokens, sequence_length, embed_dim=32,
                        num_heads=2, ff_dim=32 if args.quick else 128)
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="binary_crossentropy",
                  metrics=["accuracy"])
    model.summary()
    model.fit(x_train, y_train, epochs=args.epochs or (10 if args.quick else 20),
              batch_size=32, validation_split=0.1, verbose=2)

    accuracy = model.evaluate(x_test, y_test, return_dict=True, verbose=0)["accuracy"]
    negated = y_test[np.char.find(np.char.lower(x_test), " not ") >= 0]
    negated_x = x_test[np.char.find(np.char.lower(x_test), " not ") >= 0]
    negated_accuracy = model.evaluate(negated_x, negated, return_dict=True,
                                      verbose=0)["accuracy"] if len(negated) else 1.0
    print(f"test accuracy: {accuracy:.4f} (on the {len(negated)} negated reviews: "
          f"{negated_accuracy:.4f})")
    assert accuracy > 0.85, f"test accuracy {accuracy:.4f} should be well above chance"
    return accuracy


if __name__ == "__main__":
    main()
