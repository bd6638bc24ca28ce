//! `.car` archives: stored zip entries ([`export_car`], [`zip_stored`], [`unzip_stored`]).

use std::path::Path;

use super::*;
use crate::write_atomic;

pub(super) fn crc32(data: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (i, t) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *t = c;
    }
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc = table[((crc ^ b as u32) & 0xFF) as usize] ^ (crc >> 8);
    }
    !crc
}

/// A zip archive of stored (uncompressed) entries with UTF-8 names.
pub fn zip_stored(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = vec![];
    let mut central = vec![];
    let le16 = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
    let le32 = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
    for (name, data) in entries {
        let offset = out.len() as u32;
        let crc = crc32(data);
        let (n, sz) = (name.len() as u16, data.len() as u32);
        le32(&mut out, 0x0403_4b50);
        for x in [20u16, 0x0800, 0, 0, 0x21] {
            le16(&mut out, x);
        }
        le32(&mut out, crc);
        le32(&mut out, sz);
        le32(&mut out, sz);
        le16(&mut out, n);
        le16(&mut out, 0);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        le32(&mut central, 0x0201_4b50);
        for x in [20u16, 20, 0x0800, 0, 0, 0x21] {
            le16(&mut central, x);
        }
        le32(&mut central, crc);
        le32(&mut central, sz);
        le32(&mut central, sz);
        for x in [n, 0, 0, 0, 0] {
            le16(&mut central, x);
        }
        le32(&mut central, 0);
        le32(&mut central, offset);
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    let cd_size = central.len() as u32;
    out.extend_from_slice(&central);
    le32(&mut out, 0x0605_4b50);
    for x in [0u16, 0, entries.len() as u16, entries.len() as u16] {
        le16(&mut out, x);
    }
    le32(&mut out, cd_size);
    le32(&mut out, cd_offset);
    le16(&mut out, 0);
    out
}

/// Reads the entries of a zip of stored entries (as written by [`export_car`]).
pub fn unzip_stored(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, C8oError> {
    let bad = || C8oError::Invalid("not a zip of stored entries".into());
    let u16at = |i: usize| -> Result<usize, C8oError> {
        Ok(u16::from_le_bytes(
            bytes
                .get(i..i + 2)
                .ok_or_else(bad)?
                .try_into()
                .map_err(|_| bad())?,
        ) as usize)
    };
    let u32at = |i: usize| -> Result<usize, C8oError> {
        Ok(u32::from_le_bytes(
            bytes
                .get(i..i + 4)
                .ok_or_else(bad)?
                .try_into()
                .map_err(|_| bad())?,
        ) as usize)
    };
    let mut out = vec![];
    let mut i = 0;
    while u32at(i)? == 0x0403_4b50 {
        if u16at(i + 8)? != 0 {
            return Err(bad());
        }
        let size = u32at(i + 18)?;
        let (n, x) = (u16at(i + 26)?, u16at(i + 28)?);
        let name = String::from_utf8(bytes.get(i + 30..i + 30 + n).ok_or_else(bad)?.to_vec())
            .map_err(|_| bad())?;
        let start = i + 30 + n + x;
        out.push((
            name,
            bytes.get(start..start + size).ok_or_else(bad)?.to_vec(),
        ));
        i = start + size;
    }
    Ok(out)
}

/// Exports the project as a `.car` (see [`export_c8o`]): every entry under `<ProjectName>/`,
/// without the excluded folders.
pub fn export_car(project_dir: &Path, car_path: &Path) -> Result<ExportReport, C8oError> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let tmp = std::env::temp_dir().join(format!("fullsync-car-{}-{nanos}", std::process::id()));
    let res = (|| {
        let rep = export_c8o(project_dir, &tmp)?;
        let name = rep.project.clone();
        let mut entries = vec![];
        for rel in list_files(&tmp, &name)? {
            let abs = tmp.join(&rel);
            let data = std::fs::read(&abs).map_err(io(&abs))?;
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().to_string())
                .collect::<Vec<_>>()
                .join("/");
            entries.push((format!("{name}/{rel}"), data));
        }
        write_atomic(car_path, &zip_stored(&entries)).map_err(io(car_path))?;
        Ok(rep)
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    res
}
