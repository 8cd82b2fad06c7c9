//! AFL++ target `salesforce`: see `tandem_fuzz::salesforce`.

fn main() {
    afl::fuzz!(|data: &[u8]| {
        tandem_fuzz::salesforce(data);
    });
}
