//! The one table renderer (status, gc, profiles, doctor): columns padded to the widest cell and
//! separated by two spaces, the last column not padded.

#[derive(Debug, Default)]
pub struct Table {
    /// Empty: no header line.
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Per column, the least width (doctor keeps its status column as wide as its longest word).
    pub min_widths: Vec<usize>,
    /// Keep trailing blanks of a line (doctor always did).
    pub keep_trailing: bool,
    /// Printed after a blank line.
    pub footer: Option<String>,
    /// Said on stderr instead of printing a table without rows.
    pub when_empty: Option<&'static str>,
}

impl Table {
    pub fn new(headers: &[&str], rows: Vec<Vec<String>>) -> Table {
        Table { headers: headers.iter().map(|h| h.to_string()).collect(), rows, ..Table::default() }
    }

    pub fn render(&self) -> String {
        let n = self.rows.iter().map(Vec::len).chain([self.headers.len()]).max().unwrap_or(0);
        let mut widths: Vec<usize> = (0..n).map(|i| self.min_widths.get(i).copied().unwrap_or(0)).collect();
        for r in std::iter::once(&self.headers).chain(&self.rows) {
            for (i, c) in r.iter().enumerate() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let n = cells.len();
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                if i + 1 == n {
                    s.push_str(c);
                } else {
                    s.push_str(&format!("{c:<w$}  ", w = widths[i]));
                }
            }
            if self.keep_trailing { s } else { s.trim_end().to_string() }
        };
        let mut out: Vec<String> = Vec::new();
        if !self.headers.is_empty() {
            out.push(line(&self.headers));
        }
        out.extend(self.rows.iter().map(|r| line(r)));
        let mut text = out.join("\n");
        if let Some(footer) = &self.footer {
            text.push_str("\n\n");
            text.push_str(footer);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_all_but_the_last_column() {
        let t = Table::new(&["A", "BB", "C"], vec![vec!["xxx".into(), "y".into(), "z".into()]]);
        assert_eq!(t.render(), "A    BB  C\nxxx  y   z");
        let t = Table { min_widths: vec![0, 4], ..Table::new(&[], vec![vec!["a".into(), "ok".into(), "".into()]]) };
        assert_eq!(t.render(), "a  ok");
        let t = Table { keep_trailing: true, ..t };
        assert_eq!(t.render(), "a  ok    ");
    }
}
