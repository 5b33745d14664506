//! `describeLesion` in JS: the ABCD figures of a mask on its photo ([`crate::describe`]).

use image::{GrayImage, RgbImage};
use wasm_bindgen::prelude::*;

use super::to_js;
use crate::Error;
use crate::data::decode_image;

fn mask_image(mask: &[u8], width: u32, height: u32) -> Result<GrayImage, Error> {
    GrayImage::from_raw(width, height, mask.to_vec()).ok_or_else(|| {
        Error::BadArgument(format!(
            "the mask has {} values, not {width}x{height}",
            mask.len()
        ))
    })
}

fn describe(
    mask: GrayImage,
    photo: &RgbImage,
    mm_per_pixel: Option<f64>,
) -> Result<JsValue, JsValue> {
    to_js(&crate::describe::describe(&mask, photo, mm_per_pixel)?)
}

/// The figures of `mask` (one 0-255 value per pixel, `width` x `height`) on a photo given as
/// RGBA pixels (`photo_width` x `photo_height`, which must be the mask's size).
#[wasm_bindgen(js_name = describeLesion)]
pub fn describe_lesion(
    mask: &[u8],
    width: u32,
    height: u32,
    rgba: &[u8],
    photo_width: u32,
    photo_height: u32,
    mm_per_pixel: Option<f64>,
) -> Result<JsValue, JsValue> {
    let mask = mask_image(mask, width, height)?;
    let pixels = photo_width as usize * photo_height as usize;
    if rgba.len() != pixels * 4 {
        return Err(Error::BadArgument(format!(
            "the photo has {} bytes, not {photo_width}x{photo_height} RGBA pixels",
            rgba.len()
        ))
        .into());
    }
    let rgb = rgba
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    let photo = RgbImage::from_raw(photo_width, photo_height, rgb).expect("length checked above");
    describe(mask, &photo, mm_per_pixel)
}

/// As [`describe_lesion`], with the photo as a JPEG or PNG file, decoded as everywhere else.
#[wasm_bindgen(js_name = describeLesionFile)]
pub fn describe_lesion_file(
    mask: &[u8],
    width: u32,
    height: u32,
    bytes: &[u8],
    name: String,
    mm_per_pixel: Option<f64>,
) -> Result<JsValue, JsValue> {
    let mask = mask_image(mask, width, height)?;
    let photo = decode_image(bytes, &name)?;
    describe(mask, &photo, mm_per_pixel)
}
