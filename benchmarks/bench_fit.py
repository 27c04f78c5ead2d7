"""Benchmark: `vaetut.fit` against a plain per-item DataLoader loop (the pytorch/examples VAE style).

Same model, data, optimiser, batch size, epochs and loss; only the data path differs:
`fit` keeps the data set as one tensor and batches by index, the baseline goes through a
map-style Dataset, one item at a time, collated by a DataLoader. Run:
``python benchmarks/bench_fit.py`` (about 1 minute on 2 cores).
"""

import time

import torch
from torch.utils.data import DataLoader, Dataset

import vaetut
from vaetut.energies import vae_loss

EPOCHS, BATCH, LR, BETA, THREADS = 10, 128, 1e-3, 1.0, 1


class Images(Dataset):
    """One image per item, as in pytorch/examples' MNIST loader."""

    def __init__(self, images):
        self.images = images

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i]


def dataloader_loop(model, images):
    torch.manual_seed(0)
    loader = DataLoader(Images(images), batch_size=BATCH, shuffle=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    model.train()
    for _ in range(EPOCHS):
        total = 0.0
        for y in loader:
            y_tilde, mu, logvar = model(y)
            loss = vae_loss(y, y_tilde, mu, logvar, BETA)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
    return total / len(images)


def timed(train, repeats=3):
    """Best time of ``repeats`` runs from the same seed (each run trains a fresh model), and its final loss."""
    times = []
    for _ in range(repeats):
        vaetut.reproducible(0, THREADS)
        model = vaetut.VAE(latent_dim=20, hidden_dims=(400,), output="linear")
        start = time.perf_counter()
        loss = train(model)
        times.append(time.perf_counter() - start)
    return min(times), loss


def main():
    images = vaetut.load_mnist()[0]
    n = EPOCHS * len(images)
    # Warm-up: the first optimiser step imports parts of torch lazily (~1 s); neither side should pay it.
    vaetut.fit(vaetut.VAE(), images[:BATCH], epochs=1, progress=False, device="cpu")
    t_fit, loss_fit = timed(lambda m: vaetut.fit(m, images, epochs=EPOCHS, batch_size=BATCH, lr=LR, beta=BETA,
                                                 seed=0, progress=False, device="cpu").loss[-1])
    t_loader, loss_loader = timed(lambda m: dataloader_loop(m, images))
    print(f"threads={THREADS}, {EPOCHS} epochs x {len(images)} images, batch {BATCH}")
    print(f"vaetut.fit        : {t_fit:6.2f} s  {n / t_fit:8.0f} images/s  final loss {loss_fit:.3f}")
    print(f"DataLoader, items : {t_loader:6.2f} s  {n / t_loader:8.0f} images/s  final loss {loss_loader:.3f}")
    print(f"throughput ratio  : {t_loader / t_fit:.2f}x   final-loss difference: "
          f"{abs(loss_fit - loss_loader) / loss_loader:.2%}")


if __name__ == "__main__":
    main()
