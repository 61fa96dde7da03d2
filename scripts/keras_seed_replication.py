"""The seed network in Python Keras on a captcha-lab dataset folder: a cross-check of our
TensorFlow.js training (same data, same network, Adam with Keras's defaults).

    .venv/bin/python scripts/keras_seed_replication.py data/seed-51200-nospace --steps 300

Prints the training loss every 20 steps, held-out accuracy at the end, and the fraction of
the last convolution's units that are zero for every image (dead ReLUs).
"""
import argparse
import os
import time

import numpy as np

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'


def build(height, width, init):
    x = inp = keras.Input((height, width, 3))
    for f in (32, 64, 128, 256):
        x = keras.layers.Conv2D(f, 3, activation='relu', kernel_initializer=init)(x)
        x = keras.layers.Conv2D(f, 3, activation='relu', kernel_initializer=init, name=f'conv{f}b')(x)
        x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dropout(0.2)(x)
    outs = [keras.layers.Dense(36, activation='softmax', name=f'digit{i + 1}')(x) for i in range(4)]
    return keras.Model(inp, outs)


def load(folder, indices):
    images = np.stack([tf.io.decode_jpeg(tf.io.read_file(os.path.join(folder, f'{i}.jpg')), channels=3).numpy() for i in indices])
    return images


def scale(images, invert):
    x = images.astype(np.float32) / 255
    return 1 - x if invert else x


def main():
    p = argparse.ArgumentParser()
    p.add_argument('folder')
    p.add_argument('--steps', type=int, default=300)
    p.add_argument('--images', type=int, default=51200)
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--init', default='glorot_uniform')
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--optimizer', default='adam', choices=['adam', 'adadelta'])
    p.add_argument('--lr', type=float, default=None, help="learning rate (default: Keras's for the optimizer)")
    p.add_argument('--invert', action='store_true', help='feed 1 - x: dark background, bright characters')
    p.add_argument('--threads', type=int, default=0, help='TensorFlow threads (0: all cores)')
    a = p.parse_args()
    if a.threads:
        tf.config.threading.set_intra_op_parallelism_threads(a.threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.utils.set_random_seed(a.seed)
    labels = open(os.path.join(a.folder, 'labels.txt')).read().split()[: a.images]
    rng = np.random.default_rng(a.seed)
    order = rng.permutation(len(labels))
    n_test = len(labels) // 10
    test, train = order[:n_test], order[n_test:]
    t0 = time.time()
    x_all = load(a.folder, range(len(labels)))
    y_all = np.array([[ALPHABET.index(c) for c in t] for t in labels], dtype=np.int32)
    print(f'loaded {len(labels)} images in {time.time() - t0:.0f} s', flush=True)
    h, w = x_all.shape[1:3]
    model = build(h, w, a.init)
    opt_class = {'adam': keras.optimizers.Adam, 'adadelta': keras.optimizers.Adadelta}[a.optimizer]
    optimizer = opt_class(learning_rate=a.lr) if a.lr is not None else opt_class()
    model.compile(optimizer=optimizer, loss=['sparse_categorical_crossentropy'] * 4)
    step, t0 = 0, time.time()
    while step < a.steps:
        rng.shuffle(train)
        for s in range(0, len(train) - a.batch + 1, a.batch):
            idx = train[s : s + a.batch]
            xb = scale(x_all[idx], a.invert)
            loss = model.train_on_batch(xb, [y_all[idx, k] for k in range(4)])
            step += 1
            if step % 20 == 0:
                total = loss[0] if isinstance(loss, (list, tuple)) else loss
                print(f'step {step} loss {float(total):.3f} {step * a.batch / (time.time() - t0):.1f} img/s', flush=True)
            if step >= a.steps:
                break
    xt = scale(x_all[test[:1024]], a.invert)
    probs = model.predict(xt, batch_size=128, verbose=0)
    pred = np.stack([pr.argmax(-1) for pr in probs], 1)
    true = y_all[test[:1024]]
    print(f'held-out char {(pred == true).mean():.4f} whole {(pred == true).all(1).mean():.4f}')
    probe = keras.Model(model.input, model.get_layer('conv256b').output)
    act = probe.predict(xt[:64], verbose=0)
    dead = (act.reshape(-1, act.shape[-1]).max(0) <= 0).mean()
    print(f'last conv: {dead * 100:.1f}% of units dead on 64 held-out images')


if __name__ == '__main__':
    main()
