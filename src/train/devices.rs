//! A step on several devices, as Burn's own multi-device strategy takes it (burn-train's
//! `ExecutionStrategy::MultiDevice` with `MultiDeviceOptim::OptimMainDevice`): each device runs a
//! fork of the model on its share of the batch on a thread of its own, the gradients move to the
//! first device with `GradientsParams::to_device`, Burn's `GradientsAccumulator` sums them there,
//! and the caller takes one optimiser step. No collective is needed, so any backend mix works.
//!
//! burn-train gives every device a whole batch; here the batch is split, so a recipe's batch
//! size means the same on one device or four. Each share is weighted by its size, so the summed
//! gradient is the whole batch's mean loss's; batch norm's statistics are each share's own.

use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::prelude::*;

use crate::loss::LossKind;
use crate::{Error, Model};

/// The batch's mean loss and its gradients on `devices[0]` (where `model` lives), the batch's
/// images split over `devices` in order, in shares differing by at most one image.
pub fn gradients(
    model: &Model,
    loss: LossKind,
    x: Tensor<4>,
    y: Tensor<4>,
    devices: &[Device],
) -> Result<(f64, GradientsParams), Error> {
    let batch = x.dims()[0];
    let shares = shares(batch, devices.len());
    let results: Vec<Result<(f64, GradientsParams), Error>> = std::thread::scope(|scope| {
        let mut start = 0;
        let mut running = Vec::new();
        for (device, &share) in devices.iter().zip(&shares) {
            let range = start..start + share;
            start += share;
            if share == 0 {
                continue;
            }
            let replica = model.clone().fork(device);
            let xs = x.clone().slice(range.clone()).to_device(device);
            let ys = y.clone().slice(range).to_device(device);
            let weight = share as f64 / batch as f64;
            running.push(scope.spawn(move || {
                let value = loss.loss(replica.forward_heads(xs), ys).mul_scalar(weight);
                let mean = value.clone().into_scalar_async::<f32>();
                let mean = pollster::block_on(mean)
                    .map_err(|e| Error::Device(format!("a device's share failed: {e}")))?;
                Ok((
                    mean as f64,
                    GradientsParams::from_grads(value.backward(), &replica),
                ))
            }));
        }
        running
            .into_iter()
            .map(|r| {
                r.join().unwrap_or_else(|panic| {
                    Err(Error::Device(format!(
                        "a device's share failed: {}",
                        crate::error::panic_message(&*panic)
                    )))
                })
            })
            .collect()
    });
    let main = &devices[0];
    let mut sum = GradientsAccumulator::<Model>::new();
    let mut total = 0.0;
    for result in results {
        let (value, grads) = result?;
        total += value;
        sum.accumulate(model, grads.to_device(main, model));
    }
    Ok((total, sum.grads()))
}

/// `batch` images over `devices` devices, as evenly as they go, the larger shares first.
fn shares(batch: usize, devices: usize) -> Vec<usize> {
    (0..devices)
        .map(|i| batch / devices + usize::from(i < batch % devices))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_cover_the_batch_evenly() {
        assert_eq!(shares(8, 2), [4, 4]);
        assert_eq!(shares(5, 2), [3, 2]);
        assert_eq!(shares(3, 4), [1, 1, 1, 0]);
        for (b, d) in [(7, 3), (1, 1), (16, 5)] {
            let s = shares(b, d);
            assert_eq!(s.iter().sum::<usize>(), b);
            assert!(s.iter().max().unwrap() - s.iter().min().unwrap() <= 1);
        }
    }
}
