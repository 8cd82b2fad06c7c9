//! AFL++ target `ical`: see `tandem_fuzz::ical`.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        tandem_fuzz::ical(data);
    });
}
