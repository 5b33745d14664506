//! The command line's devices: a backend's name and index resolved to a Burn device, with an
//! error that says what to do when the build or the machine lacks it.

use burn::prelude::*;

use super::Backend;
use crate::Error;

/// One device of `--devices`: `N` (device N of `--backend`) or `BACKEND[:N]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceSpec {
    /// The backend, `None` for the command's `--backend`.
    pub backend: Option<Backend>,
    /// The device's index on its backend.
    pub index: usize,
}

impl std::str::FromStr for DeviceSpec {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || {
            Error::BadArgument(format!(
                "'{s}' is not a device: give N (device N of --backend) or BACKEND[:N], e.g. 0, \
                 cuda:1, cpu"
            ))
        };
        let index = |n: &str| n.trim().parse::<usize>().map_err(|_| bad());
        match s.split_once(':') {
            Some((name, n)) => Ok(DeviceSpec {
                backend: Some(name.trim().parse()?),
                index: index(n)?,
            }),
            None if s.trim().chars().all(|c| c.is_ascii_digit()) => Ok(DeviceSpec {
                backend: None,
                index: index(s)?,
            }),
            None => Ok(DeviceSpec {
                backend: Some(s.trim().parse()?),
                index: 0,
            }),
        }
    }
}

/// The devices of `specs`, those without a backend on `backend`, in order; one device named
/// twice is refused (it would train on the same data twice per step).
pub fn devices(backend: Backend, specs: &[DeviceSpec]) -> Result<Vec<Device>, Error> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for spec in specs {
        let key = (spec.backend.unwrap_or(backend), spec.index);
        if seen.contains(&key) {
            return Err(Error::BadArgument(format!(
                "device {}:{} is named twice in --devices",
                key.0, key.1
            )));
        }
        seen.push(key);
        out.push(device(key.0, key.1)?);
    }
    Ok(out)
}

/// Device `index` of `backend`, opened. A backend this build lacks, or a device the machine
/// lacks, is an error naming the fix.
pub fn device(backend: Backend, index: usize) -> Result<Device, Error> {
    if !backend.is_built() {
        let hint = match backend {
            Backend::WebGpu => "it is the page's; natively, use --backend wgpu".to_string(),
            _ => format!(
                "rebuild with `cargo build --release --features {}` (README, \"Backends\")",
                backend.as_str()
            ),
        };
        return Err(Error::BadArgument(format!(
            "this lesionlab was built without the '{backend}' backend: {hint}"
        )));
    }
    match backend {
        Backend::Cpu => cpu(index),
        Backend::Wgpu => wgpu(index),
        Backend::Cuda => cuda(index),
        Backend::WebGpu => unreachable!("never built natively (is_built)"),
    }
}

fn cpu(index: usize) -> Result<Device, Error> {
    if index != 0 {
        return Err(Error::BadArgument(format!(
            "the cpu backend has one device (0), not {index}: Flex spreads its work over every \
             core itself"
        )));
    }
    #[cfg(feature = "flex")]
    return Ok(Device::flex());
    #[cfg(not(feature = "flex"))]
    unreachable!("is_built checked the flex feature")
}

/// wgpu's device `index`: 0 is wgpu's own choice (the first high-power GPU, else a software
/// adapter such as lavapipe; `CUBECL_WGPU_DEFAULT_DEVICE` overrides it), N > 0 the N-th
/// discrete GPU.
fn wgpu(index: usize) -> Result<Device, Error> {
    #[cfg(feature = "wgpu")]
    {
        let kind = match index {
            0 => DeviceKind::DefaultDevice,
            n => DeviceKind::DiscreteGpu(n),
        };
        opened(Device::wgpu(kind)).map_err(|why| {
            Error::Device(format!(
                "wgpu device {index} could not be opened ({why}); on Linux without a GPU, \
                 Debian's mesa-vulkan-drivers package gives a software one"
            ))
        })
    }
    #[cfg(not(feature = "wgpu"))]
    {
        let _ = index;
        unreachable!("is_built checked the wgpu feature")
    }
}

/// CUDA device `index`.
fn cuda(index: usize) -> Result<Device, Error> {
    #[cfg(feature = "cuda")]
    {
        opened(Device::cuda(index)).map_err(|why| {
            Error::Device(format!(
                "CUDA device {index} could not be opened ({why}): is there an NVIDIA GPU and \
                 its driver?"
            ))
        })
    }
    #[cfg(not(feature = "cuda"))]
    {
        let _ = index;
        unreachable!("is_built checked the cuda feature")
    }
}

/// `device` once a one-element tensor has been made on it. CubeCL opens a GPU at its first use
/// and panics when it cannot, so the command fails here with a sentence instead of a backtrace
/// in the middle of its work. Burn opens each runtime once per process, whoever asks first.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
fn opened(device: Device) -> Result<Device, String> {
    let probe = device.clone();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let made = std::panic::catch_unwind(move || Tensor::<1>::zeros([1], &probe).into_data());
    std::panic::set_hook(hook);
    made.map(|_| device)
        .map_err(|panic| crate::error::panic_message(&*panic).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_specs_read_an_index_a_backend_or_both() {
        let spec = |s: &str| s.parse::<DeviceSpec>().unwrap();
        assert_eq!(
            spec("1"),
            DeviceSpec {
                backend: None,
                index: 1
            }
        );
        assert_eq!(
            spec("cuda:2"),
            DeviceSpec {
                backend: Some(Backend::Cuda),
                index: 2
            }
        );
        assert_eq!(
            spec("cpu"),
            DeviceSpec {
                backend: Some(Backend::Cpu),
                index: 0
            }
        );
        for bad in ["gpu", "cuda:x", "-1", ""] {
            assert!(bad.parse::<DeviceSpec>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_device_named_twice_or_missing_is_refused() {
        let specs = ["0".parse().unwrap(), "cpu:0".parse().unwrap()];
        let e = devices(Backend::Cpu, &specs).unwrap_err().to_string();
        assert!(e.contains("named twice"), "{e}");
        let e = device(Backend::Cpu, 1).unwrap_err().to_string();
        assert!(e.contains("one device"), "{e}");
        if !Backend::Cuda.is_built() {
            let e = device(Backend::Cuda, 0).unwrap_err().to_string();
            assert!(e.contains("--features cuda"), "{e}");
        }
    }
}
