//! Checksummed records in a file of their own, as the store's journal and the log's tail keep
//! them: a header block (magic, epoch, CRC), then records, each `magic, crc, epoch, seq, length,
//! body`.
//!
//! Emptying such a file writes a header with the next epoch, so records of an earlier epoch
//! left further on are never read again; a record counts only with the header's epoch, the next
//! sequence number and a matching CRC, so a torn last record ends the file where it tore.

use redb::StorageBackend;
use redb::backends::FileBackend;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Where the records start: the header has a block to itself.
pub const RECORDS: u64 = 4096;
/// magic, crc, epoch, seq, body length.
pub const RECORD_HEAD: usize = 4 + 4 + 8 + 8 + 8;
const HEADER_LEN: usize = 8 + 8 + 4;

/// One kind of record file: its magic numbers and the largest body it holds.
pub struct Framing {
    pub header: &'static [u8; 8],
    pub record: &'static [u8; 4],
    pub capacity: u64,
}

impl Framing {
    /// Open the file at `path` (creating it, durably, if it is missing) and give it to `lock`
    /// before its header is read or written.
    pub fn open(
        &self,
        path: &Path,
        lock: impl FnOnce(&File) -> io::Result<()>,
    ) -> io::Result<FileBackend> {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path)?;
        lock(&file)?;
        let file = FileBackend::new(file).map_err(io::Error::other)?;
        if file.len()? < RECORDS {
            // New: its first header, and its name in the directory, must outlive a crash before
            // any record relies on them.
            self.write_header(&file, 1)?;
            if let Some(dir) = path.parent() {
                sync_dir(dir)?;
            }
        }
        Ok(file)
    }

    /// Fill in the head of a record whose body follows `RECORD_HEAD` bytes of room for it.
    pub fn seal(&self, record: &mut [u8], epoch: u64, seq: u64) {
        let body = (record.len() - RECORD_HEAD) as u64;
        record[..4].copy_from_slice(self.record);
        record[8..16].copy_from_slice(&epoch.to_le_bytes());
        record[16..24].copy_from_slice(&seq.to_le_bytes());
        record[24..32].copy_from_slice(&body.to_le_bytes());
        let crc = crc32fast::hash(&record[8..]);
        record[4..8].copy_from_slice(&crc.to_le_bytes());
    }

    /// Whether `file` holds a record of its header's epoch: something a session that ended
    /// without emptying it left behind.
    pub fn holds_records(&self, file: &FileBackend) -> io::Result<bool> {
        let epoch = self.read_epoch(file)?.unwrap_or(0);
        Ok(self.read_record(file, RECORDS, epoch, 0)?.is_some())
    }

    /// Hand the body of each record of `epoch` to `each`, oldest first, until one is missing,
    /// torn or of another epoch. Returns how many there were and where the next one goes.
    pub fn each_record(
        &self,
        file: &FileBackend,
        epoch: u64,
        mut each: impl FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<(u64, u64)> {
        let (mut at, mut seq) = (RECORDS, 0);
        while let Some(body) = self.read_record(file, at, epoch, seq)? {
            each(&body)?;
            at += (RECORD_HEAD + body.len()) as u64;
            seq += 1;
        }
        Ok((seq, at))
    }

    /// The body of the record at `at`, if one of this epoch with this sequence number is there
    /// whole.
    fn read_record(
        &self,
        file: &FileBackend,
        at: u64,
        epoch: u64,
        seq: u64,
    ) -> io::Result<Option<Vec<u8>>> {
        let mut head = [0u8; RECORD_HEAD];
        if !read_fully(file, &mut head, at)? || &head[..4] != self.record {
            return Ok(None);
        }
        let word = |i: usize| u64::from_le_bytes(head[i..i + 8].try_into().expect("eight bytes"));
        let len = word(24);
        if word(8) != epoch || word(16) != seq || len > self.capacity {
            return Ok(None);
        }
        let mut body = vec![0u8; len as usize];
        if !read_fully(file, &mut body, at + RECORD_HEAD as u64)? {
            return Ok(None);
        }
        let mut crc = crc32fast::Hasher::new();
        crc.update(&head[8..]);
        crc.update(&body);
        let stored = u32::from_le_bytes(head[4..8].try_into().expect("four bytes"));
        Ok((crc.finalize() == stored).then_some(body))
    }

    /// Write the header of `epoch` and sync it: the file's records from then on are of it.
    pub fn write_header(&self, file: &FileBackend, epoch: u64) -> io::Result<()> {
        let mut header = [0u8; HEADER_LEN];
        header[..8].copy_from_slice(self.header);
        header[8..16].copy_from_slice(&epoch.to_le_bytes());
        let crc = crc32fast::hash(&header[..16]);
        header[16..].copy_from_slice(&crc.to_le_bytes());
        file.write(0, &header)?;
        if file.len()? < RECORDS {
            file.set_len(RECORDS)?;
        }
        file.sync_data()
    }

    /// The epoch of the file's records. A header that does not read whole is one whose
    /// rewriting a crash cut short, which happens only once its records were needed no more:
    /// a new epoch from the clock keeps the old records out.
    pub fn read_header(&self, file: &FileBackend) -> io::Result<u64> {
        if let Some(epoch) = self.read_epoch(file)? {
            return Ok(epoch);
        }
        let epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        self.write_header(file, epoch)?;
        Ok(epoch)
    }

    /// The header's epoch, if the header reads whole.
    pub fn read_epoch(&self, file: &FileBackend) -> io::Result<Option<u64>> {
        let mut header = [0u8; HEADER_LEN];
        if !read_fully(file, &mut header, 0)? || &header[..8] != self.header {
            return Ok(None);
        }
        let crc = u32::from_le_bytes(header[16..].try_into().expect("four bytes"));
        let epoch = u64::from_le_bytes(header[8..16].try_into().expect("eight bytes"));
        Ok((crc32fast::hash(&header[..16]) == crc).then_some(epoch))
    }
}

/// Fill `out` from `at`; false where the file ends first.
fn read_fully(file: &FileBackend, out: &mut [u8], at: u64) -> io::Result<bool> {
    match file.read(at, out) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

/// Make a new file's name in `dir` durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
