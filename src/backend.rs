//! Where a model runs: the backends by name, what each can do, and (natively) their devices.
//! The page has `cpu` and `webgpu`; the command line `cpu`, `wgpu` and `cuda`, each of the two
//! GPU ones when the build has its feature.

use crate::Error;

/// Where a session's model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// Flex, Burn's CPU backend, with LesionLab's CPU kernels.
    Cpu,
    /// WebGPU (the browser's GPU).
    WebGpu,
    /// wgpu natively: Vulkan, Metal or DirectX 12, whichever the machine has (feature `wgpu`).
    Wgpu,
    /// CUDA on an NVIDIA GPU (feature `cuda`).
    Cuda,
}

impl Backend {
    /// The backend's name, as the JS API and the command line spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Cpu => "cpu",
            Backend::WebGpu => "webgpu",
            Backend::Wgpu => "wgpu",
            Backend::Cuda => "cuda",
        }
    }

    /// Whether the backend reads results back synchronously, which Burn needs to save Adam's
    /// state: all but the browser's WebGPU.
    pub fn reads_synchronously(self) -> bool {
        self != Backend::WebGpu
    }

    /// Whether the backend computes in float64 (the parity tests' reference precision): Flex
    /// only; WGSL has no 64-bit floats and the CUDA path is not checked in float64.
    pub fn has_float64(self) -> bool {
        self == Backend::Cpu
    }

    /// Whether this build can run the backend natively.
    pub fn is_built(self) -> bool {
        match self {
            Backend::Cpu => cfg!(feature = "flex"),
            Backend::WebGpu => false,
            Backend::Wgpu => cfg!(feature = "wgpu"),
            Backend::Cuda => cfg!(feature = "cuda"),
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Backend {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "cpu" => Ok(Backend::Cpu),
            "webgpu" => Ok(Backend::WebGpu),
            "wgpu" => Ok(Backend::Wgpu),
            "cuda" => Ok(Backend::Cuda),
            other => Err(Error::BadArgument(format!(
                "unknown backend '{other}': expected cpu, webgpu (the page), wgpu or cuda (the \
                 command line)"
            ))),
        }
    }
}

#[cfg(not(target_family = "wasm"))]
mod native;
#[cfg(not(target_family = "wasm"))]
pub use native::{DeviceSpec, device, devices};
