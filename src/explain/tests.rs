use super::*;
use crate::data::input_tensor;
use crate::model::{PspNetConfig, UNetConfig};
use burn::module::Param;
use image::RgbImage;

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

#[test]
fn cam_equals_the_formula_by_hand() {
    let device = Device::flex();
    // Two channels of 2x2 activations; the output's spatial mean is 0.5.
    let a = Tensor::<4>::from_floats(
        [[[[1.0, -2.0], [0.5, 0.0]], [[3.0, 1.0], [-1.0, 0.0]]]],
        &device,
    );
    let out = Tensor::<4>::from_floats([[[[0.0, 1.0], [1.0, 0.0]]]], &device);
    // 0.5 * (1+3, -2+1, 0.5-1, 0+0) = (2, -0.5, -0.25, 0) -> ReLU -> (2, 0, 0, 0)
    assert_eq!(values(cam_from(a.clone(), out)), vec![2.0, 0.0, 0.0, 0.0]);
    // A negative mean output flips which regions survive the ReLU, as the formula says.
    let neg = Tensor::<4>::from_floats([[[[-1.0, -1.0], [-1.0, -1.0]]]], &device);
    assert_eq!(values(cam_from(a, neg)), vec![0.0, 1.0, 0.5, 0.0]);
}

#[test]
fn normalisation_maps_to_unit_range_and_flat_maps_to_zero() {
    let mut v = vec![2.0, 4.0, 3.0];
    normalize(&mut v);
    assert_eq!(v, vec![0.0, 1.0, 0.5]);
    let mut flat = vec![0.7; 5];
    normalize(&mut flat);
    assert_eq!(flat, vec![0.0; 5]);
    let mut nan = vec![f32::NAN, 1.0];
    normalize(&mut nan);
    assert!(nan.iter().all(|v| v.is_finite()));
}

/// A PSPNet whose classifier is a known linear 1x1 convolution: the logit at every pixel is
/// `Σ_c w_c · D_c + b` over the decoder features `D`, so the gradient of the centre logit with
/// respect to `D` is `w_c` at the centre and 0 elsewhere (before the final bilinear resize,
/// which at equal size is the identity on the centre). Grad-CAM's channel weights are then
/// `w_c / (h·w)`, and the map is `ReLU(Σ_c w_c · D_c) / (h·w)`.
#[test]
fn gradcam_of_a_linear_head_equals_the_closed_form() {
    let device = Device::flex();
    let mut m = PspNetConfig::new(8, 2, 3).init(&device);
    let w = [0.5f32, -1.0, 2.0];
    m.decoder.classifier.weight =
        Param::from_tensor(Tensor::<1>::from_floats(w, &device).reshape([1, 3, 1, 1]));
    let model = Model::PspNet(m).valid();
    let photo = RgbImage::from_fn(32, 32, |x, y| {
        image::Rgb([(x * 8) as u8, (y * 8) as u8, 90])
    });

    // The decoder features D, read with a tap, and the expected map from them.
    let mut features = None;
    let mut keep = |a: Tensor<4>| {
        features = Some(a.clone());
        a
    };
    let mut tap = Tap::new("decoder", &mut keep);
    model.predict_tapped(
        input_tensor(&photo, 32, &device),
        InferenceMode::MeanOfHeads,
        Some(&mut tap),
    );
    let d = features.unwrap();
    let [_, _, h, wd] = d.dims();
    let weights = Tensor::<1>::from_floats(w, &device).reshape([1, 3, 1, 1]);
    let mut expected = values(
        relu((d * weights).sum_dim(1))
            .div_scalar((h * wd) as f64)
            .reshape([h * wd]),
    );
    normalize(&mut expected);

    // The final resize maps 8x8 logits to 32x32 with half-pixel centres: the gradient of a
    // 32x32 pixel spreads over neighbouring feature pixels, but its *spatial mean* per channel
    // is still proportional to w_c, since the resize's weights sum to one.
    let heat = pollster::block_on(explain(
        &model,
        input_tensor(&photo, 32, &device),
        photo.dimensions(),
        &HeatmapRequest {
            method: Method::GradCam,
            layer: Some("decoder"),
            target: Target::Center,
            mode: InferenceMode::MeanOfHeads,
        },
        None,
    ))
    .unwrap();
    assert_eq!(heat.layer, "decoder");
    let mut ours = heat.values.clone();
    // Compare at the feature resolution: resize ours back down is lossy, so instead resize the
    // expected map up the same way `explain` does.
    let mut up = crate::data::resize_map(expected, (wd as u32, h as u32), (32, 32));
    up.iter_mut().for_each(|v| *v = v.clamp(0.0, 1.0));
    let err = ours
        .iter_mut()
        .zip(&up)
        .map(|(a, b)| (*a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(err < 1e-4, "max error {err}");
}

#[test]
fn heatmaps_are_finite_in_unit_range_at_the_photo_size_for_every_layer() {
    let device = Device::flex();
    let model = Model::UNet(UNetConfig::new([4, 4, 8, 8, 8]).init(&device)).valid();
    let photo = RgbImage::from_pixel(40, 24, image::Rgb([120, 80, 60]));
    for layer in model.layers() {
        for method in [Method::Cam, Method::Activation, Method::GradCam] {
            let h = pollster::block_on(explain(
                &model,
                input_tensor(&photo, 32, &device),
                photo.dimensions(),
                &HeatmapRequest {
                    method,
                    layer: Some(layer),
                    target: Target::Lesion,
                    mode: InferenceMode::MeanOfHeads,
                },
                None,
            ))
            .unwrap();
            assert_eq!((h.width, h.height, h.values.len()), (40, 24, 40 * 24));
            assert!(
                h.values
                    .iter()
                    .all(|v| v.is_finite() && (0.0..=1.0).contains(v)),
                "{layer} {method:?}"
            );
        }
    }
    let err = pollster::block_on(explain(
        &model,
        input_tensor(&photo, 32, &device),
        photo.dimensions(),
        &HeatmapRequest {
            method: Method::Cam,
            layer: Some("x4_0"),
            target: Target::Lesion,
            mode: InferenceMode::MeanOfHeads,
        },
        None,
    ))
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("U-Net has no layer 'x4_0'; its layers are enc1"),
        "{err}"
    );
}

#[test]
fn targets_parse() {
    assert_eq!(
        "pixel:12,7".parse::<Target>().unwrap(),
        Target::Pixel(12, 7)
    );
    assert_eq!("lesion".parse::<Target>().unwrap(), Target::Lesion);
    assert!("pixel:a,b".parse::<Target>().is_err());
    assert_eq!("grad-cam".parse::<Method>().unwrap(), Method::GradCam);
}

#[test]
fn blank_maps_say_why_and_others_say_nothing() {
    let map = |values: Vec<f32>, mean_logit: f32| Heatmap {
        layer: "dec1".into(),
        mean_logit,
        width: 2,
        height: 1,
        values,
    };
    assert_eq!(map(vec![0.0, 1.0], -3.0).blank_note(Method::Cam), None);
    let cam = map(vec![0.0, 0.0], -1.234).blank_note(Method::Cam).unwrap();
    assert!(
        cam.contains("negative here (-1.23") && cam.contains("mean activation"),
        "{cam}"
    );
    let flat = map(vec![0.0, 0.0], 0.5).blank_note(Method::Cam).unwrap();
    assert!(flat.contains("responds the same everywhere"), "{flat}");
    let grad = map(vec![0.0, 0.0], 0.5)
        .blank_note(Method::GradCam)
        .unwrap();
    assert!(
        grad.starts_with("Grad-CAM is blank at layer dec1:")
            && grad.ends_with("Try another layer."),
        "{grad}"
    );
}
