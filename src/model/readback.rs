//! Copying a model's parameters to the CPU with one asynchronous read, the only kind WebGPU
//! allows: saving weights or a checkpoint from the browser's GPU goes through here.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;
use burn::tensor::Transaction;

use super::Model;
use crate::error::Error;

/// A tensor's values as `f32`, read back asynchronously (the only readback WebGPU allows).
pub async fn read_floats<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, Error> {
    let data = t
        .into_data_async()
        .await
        .map_err(|e| Error::Device(format!("reading a result back from the device failed: {e}")))?;
    data.try_to_vec::<f32>()
        .map_err(|e| Error::Device(format!("a result came back in an unexpected type: {e:?}")))
}

struct Collect {
    transaction: Option<Transaction>,
}

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = self.transaction.take().expect("present between visits");
        self.transaction = Some(t.register(param.val()));
    }
}

struct Place {
    values: std::vec::IntoIter<TensorData>,
    device: Device,
}

impl ModuleMapper for Place {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let data = self
            .values
            .next()
            .expect("one value per parameter, in visiting order");
        let device = self.device.clone();
        param.map(|_| Tensor::from_data(data, &device))
    }
}

/// The device read-back weights are kept on to be written out: Flex, or in a build without it
/// (GPU only), `device` itself.
pub fn host(device: &Device) -> Device {
    #[cfg(feature = "flex")]
    {
        let _ = device;
        Device::flex()
    }
    #[cfg(not(feature = "flex"))]
    {
        device.clone()
    }
}

/// The model (its inference form) with every parameter copied to `target` (the CPU, to save
/// it), parameter ids kept. All parameters are read in one transaction.
pub async fn copy_to(model: &Model, target: &Device) -> Result<Model, Error> {
    let model = model.valid();
    let mut collect = Collect {
        transaction: Some(Transaction::default()),
    };
    model.visit(&mut collect);
    let values = collect
        .transaction
        .expect("present after visiting")
        .execute_async()
        .await
        .map_err(|e| {
            Error::Device(format!(
                "reading the weights back from the device failed: {e:?}"
            ))
        })?;
    Ok(model.map(&mut Place {
        values: values.into_iter(),
        device: target.clone(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Architecture, Preset};

    #[test]
    fn copy_keeps_values_ids_and_outputs() {
        let device = Device::flex();
        let model = Model::init(Architecture::PspNet, Preset::Web, &device);
        let copy = pollster::block_on(copy_to(&model, &Device::flex())).unwrap();
        let x = Tensor::<4>::random(
            [1, 3, 32, 32],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &device,
        );
        let a = model.valid().forward_heads(x.clone()).remove(0);
        let b = copy.forward_heads(x).remove(0);
        assert_eq!((a - b).abs().max().into_scalar::<f32>(), 0.0);
        let ids = |m: &Model| {
            let mut ids = Vec::new();
            struct Ids<'a>(&'a mut Vec<String>);
            impl ModuleVisitor for Ids<'_> {
                fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<D>>) {
                    self.0.push(p.id.to_string());
                }
            }
            m.visit(&mut Ids(&mut ids));
            ids
        };
        assert_eq!(ids(&model), ids(&copy));
        assert!(ids(&model).len() > 20);
    }
}
