"""`fit_many` and the engine under it: several trainings in worker processes give, bit for bit, what
`vaetut.fit` gives when called on each model in turn in one process with one thread (the oracle)."""

import copy
import os

import pytest
import torch

import vaetut
from vaetut.parallel import Job, fit_many, run


def models_and_data():
    g = torch.Generator().manual_seed(1)
    y, other = (
        torch.rand(200, 6, generator=g, dtype=torch.float64),
        torch.rand(150, 6, generator=g, dtype=torch.float64),
    )
    torch.manual_seed(0)
    jobs = [
        Job(vaetut.Autoencoder(6, 2, (8,), dtype=torch.float64), y, dict(epochs=2, batch_size=50, progress=False)),
        Job(vaetut.VAE(6, 2, (8,), dtype=torch.float64), y, dict(epochs=3, beta=1.5, seed=4, progress=False)),
        (vaetut.VAE(6, 3, (), "linear", torch.float64), other, dict(epochs=2, lr=3e-3, cost="mse", progress=False)),
        (vaetut.VAE(6, 2, (8,), dtype=torch.float64), y, dict(epochs=1, beta=0.0, progress=False)),  # set, not trained
    ]
    return jobs


def one_by_one(jobs):
    """The oracle: vaetut.fit on each (a copy of each) model in turn, one thread."""
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = []
        for job in jobs:
            model, y, kwargs = (job.model, job.y, job.fit_kwargs) if isinstance(job, Job) else job
            model = copy.deepcopy(model)
            out.append((vaetut.fit(model, y, **kwargs), model))
        return out
    finally:
        torch.set_num_threads(saved)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_fit_many_is_fit_in_turn_bit_for_bit(n_jobs):
    jobs = models_and_data()
    expected = one_by_one(jobs)
    torch.set_num_threads(2)
    histories = fit_many(jobs, n_jobs=n_jobs)
    assert torch.get_num_threads() == 2  # the caller's thread count is left alone
    assert len(histories) == len(jobs)
    for job, history, (history_1, model_1) in zip(jobs, histories, expected):
        model = job.model if isinstance(job, Job) else job[0]
        assert history.rows == history_1.rows and history.collapsed == history_1.collapsed
        weights, weights_1 = model.state_dict(), model_1.state_dict()
        assert list(weights) == list(weights_1)
        assert all(torch.equal(weights[k], weights_1[k]) for k in weights)  # trained weights back in the caller's model


def test_fit_many_refuses_bad_jobs_before_training(monkeypatch):
    monkeypatch.setattr("vaetut.parallel.fit", lambda *a, **k: pytest.fail("trained before refusing"))
    model, y = vaetut.VAE(6, 2, (8,)), torch.rand(10, 6)
    for jobs, message in [
        ([], "empty"),
        ("jobs", "sequence"),
        ([(model,)], "jobs\\[0\\]"),
        ([("model", y, {})], "model"),
        ([(model, [1.0], {})], "y"),
        ([(model, y, [])], "fit_kwargs"),
        ([(model, y, {}), (model, y, {})], "share a model"),
    ]:
        with pytest.raises((TypeError, ValueError), match=message):
            fit_many(jobs, n_jobs=1)
    with pytest.raises(ValueError, match="n_jobs"):
        fit_many([(model, y, {})], n_jobs=0)
    with pytest.raises(ValueError, match="not both"):
        fit_many([(model, y, {})], n_jobs=2, scheduler="tcp://127.0.0.1:1")


def rows_sum(data, k):
    (y,) = data
    return float(y[k].sum()), (os.getpid(), y.data_ptr())


def test_data_goes_to_each_worker_once_and_results_come_back_in_order():
    y = torch.arange(40.0, dtype=torch.float64).reshape(20, 2)
    results = run(rows_sum, [(k,) for k in range(20)], (y,), n_jobs=2)
    assert [r for r, _ in results] == [float(y[k].sum()) for k in range(20)]
    # one tensor per worker process for the whole call, not one per task
    places = {place for _, place in results}
    assert len({pid for pid, _ in places}) == len(places) <= 2 and os.getpid() not in {pid for pid, _ in places}
