//! Validated text: each type can only be built through `parse`, so a value of it is
//! known to be well-formed everywhere downstream.

/// Why a piece of input was refused: which field, a stable snake_case code, and a
/// sentence for a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    pub field: &'static str,
    pub code: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        ValidationError {
            field,
            code,
            message: message.into(),
        }
    }
}

macro_rules! text_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

fn has_control_chars(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
}

text_type!(
    /// A mailbox address, lower-cased. Deliberately modest: one `@`, a non-empty local
    /// part, a dotted domain, no spaces; full RFC 5322 syntax is the mail crate's job.
    EmailAddress
);

impl EmailAddress {
    pub const MAX_LEN: usize = 254;

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = s.trim();
        let bad = || {
            ValidationError::new(
                "email",
                "invalid_email",
                format!("`{s}` is not an email address we can write to."),
            )
        };
        if s.is_empty() {
            return Err(ValidationError::new(
                "email",
                "invalid_email",
                "An email address is required.",
            ));
        }
        if s.len() > Self::MAX_LEN || has_control_chars(s) || s.chars().any(char::is_whitespace) {
            return Err(bad());
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(bad)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(bad());
        }
        Ok(EmailAddress(s.to_lowercase()))
    }

    /// The part after the `@`, e.g. `example.com`.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }
}

text_type!(
    /// A ticket's subject line: one line, not blank, at most 250 characters.
    Subject
);

impl Subject {
    pub const MAX_CHARS: usize = 250;

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        // Mail clients fold long subjects; a subject is still one line to us.
        let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
        if one_line.is_empty() {
            return Err(ValidationError::new(
                "subject",
                "empty_subject",
                "The subject cannot be empty.",
            ));
        }
        if one_line.chars().count() > Self::MAX_CHARS {
            return Err(ValidationError::new(
                "subject",
                "subject_too_long",
                format!("The subject is longer than {} characters.", Self::MAX_CHARS),
            ));
        }
        if has_control_chars(&one_line) {
            return Err(ValidationError::new(
                "subject",
                "invalid_characters",
                "The subject contains control characters.",
            ));
        }
        Ok(Subject(one_line))
    }
}

text_type!(
    /// The text of a message. Kept exactly as written (no trimming inside), only
    /// required to say something and to fit the configured limit.
    Body
);

impl Body {
    /// The default cap on one message's text; the HTTP body limit sits above it.
    pub const MAX_BYTES: usize = 256 * 1024;

    /// A message's text.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        Self::parse_as(s, ["body", "empty_body", "body_too_long", "message"])
    }

    /// The description of an intervention: the same rules, its own field and codes.
    pub fn parse_description(s: &str) -> Result<Self, ValidationError> {
        Self::parse_as(
            s,
            [
                "description",
                "empty_description",
                "description_too_long",
                "description",
            ],
        )
    }

    /// `[field, empty code, too-long code, what to call it in the sentence]`.
    fn parse_as(
        s: &str,
        [field, empty, too_long, noun]: [&'static str; 4],
    ) -> Result<Self, ValidationError> {
        if s.trim().is_empty() {
            return Err(ValidationError::new(
                field,
                empty,
                format!("The {noun} cannot be empty."),
            ));
        }
        if s.len() > Self::MAX_BYTES {
            return Err(ValidationError::new(
                field,
                too_long,
                format!("The {noun} is longer than {} KiB.", Self::MAX_BYTES / 1024),
            ));
        }
        if s.contains('\0') {
            return Err(ValidationError::new(
                field,
                "invalid_characters",
                format!("The {noun} contains a NUL character."),
            ));
        }
        Ok(Body(s.to_owned()))
    }
}

text_type!(
    /// What the customer needs, in a sentence or two (P1). Empty means "not yet known".
    Need
);

impl Need {
    pub const MAX_CHARS: usize = 2000;

    /// `Ok(None)` for blank input: clearing the need is allowed.
    pub fn parse(s: &str) -> Result<Option<Self>, ValidationError> {
        let t = s.trim();
        if t.is_empty() {
            return Ok(None);
        }
        if t.chars().count() > Self::MAX_CHARS {
            return Err(ValidationError::new(
                "need",
                "need_too_long",
                format!("The need is longer than {} characters.", Self::MAX_CHARS),
            ));
        }
        if t.contains('\0') {
            return Err(ValidationError::new(
                "need",
                "invalid_characters",
                "The need contains a NUL character.",
            ));
        }
        Ok(Some(Need(t.to_owned())))
    }
}

text_type!(
    /// A short label: lower-case letters, digits, `-` and `_`, 1 to 50 characters.
    Tag
);

impl Tag {
    pub const MAX_CHARS: usize = 50;

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let t = s.trim().to_lowercase();
        let ok = !t.is_empty()
            && t.chars().count() <= Self::MAX_CHARS
            && t.chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_');
        if !ok {
            return Err(ValidationError::new(
                "tags",
                "invalid_tag",
                format!(
                    "`{s}` is not a tag: use 1 to {} letters, digits, `-` or `_`.",
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(Tag(t))
    }

    /// Parses a list, dropping duplicates and keeping first-seen order.
    pub fn parse_all<S: AsRef<str>>(items: &[S]) -> Result<Vec<Tag>, ValidationError> {
        if items.len() > 50 {
            return Err(ValidationError::new(
                "tags",
                "too_many_tags",
                "A ticket can carry at most 50 tags.",
            ));
        }
        let mut out: Vec<Tag> = Vec::with_capacity(items.len());
        for s in items {
            let tag = Tag::parse(s.as_ref())?;
            if !out.contains(&tag) {
                out.push(tag);
            }
        }
        Ok(out)
    }
}

text_type!(
    /// A person's display name: one line, at most 200 characters.
    PersonName
);

impl PersonName {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let t = s.trim();
        if t.is_empty() {
            return Err(ValidationError::new(
                "name",
                "empty_name",
                "The name cannot be empty.",
            ));
        }
        if t.chars().count() > Self::MAX_CHARS || has_control_chars(t) || t.contains('\n') {
            return Err(ValidationError::new(
                "name",
                "invalid_name",
                format!(
                    "A name is one line of at most {} characters.",
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(PersonName(t.to_owned()))
    }
}

text_type!(
    /// The name of a rung on the ladder, a lower-case slug such as `frontline`.
    RungName
);

impl RungName {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let ok = !s.is_empty()
            && s.len() <= 40
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !ok {
            return Err(ValidationError::new(
                "rung",
                "invalid_rung",
                format!("`{s}` is not a rung name."),
            ));
        }
        Ok(RungName(s.to_owned()))
    }

    pub fn frontline() -> Self {
        RungName(crate::DEFAULT_RUNGS[0].to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn emails() {
        assert_eq!(
            EmailAddress::parse(" Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a da@example.com",
            "ada@exa_mple.com",
            "ada@.com",
            "ada@example..com",
        ] {
            assert_eq!(
                EmailAddress::parse(bad).unwrap_err().code,
                "invalid_email",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn subjects_are_one_line() {
        assert_eq!(
            Subject::parse("  Broken\r\n  kettle ").unwrap().as_str(),
            "Broken kettle"
        );
        assert_eq!(Subject::parse(" \n ").unwrap_err().code, "empty_subject");
        assert_eq!(
            Subject::parse(&"x".repeat(251)).unwrap_err().code,
            "subject_too_long"
        );
    }

    #[test]
    fn bodies_keep_their_text() {
        let text = "  <b>hi</b> ' OR 1=1 --\n";
        assert_eq!(Body::parse(text).unwrap().as_str(), text);
        assert_eq!(Body::parse("   ").unwrap_err().code, "empty_body");
        assert_eq!(
            Body::parse(&"x".repeat(Body::MAX_BYTES + 1))
                .unwrap_err()
                .code,
            "body_too_long"
        );
    }

    #[test]
    fn need_blank_is_none() {
        assert_eq!(Need::parse("  ").unwrap(), None);
        assert_eq!(
            Need::parse(" a refund ").unwrap().unwrap().as_str(),
            "a refund"
        );
    }

    #[test]
    fn tags_normalise_and_dedupe() {
        let tags = Tag::parse_all(&["Billing", "billing", "late-delivery"]).unwrap();
        assert_eq!(
            tags.iter().map(Tag::as_str).collect::<Vec<_>>(),
            ["billing", "late-delivery"]
        );
        assert_eq!(Tag::parse("two words").unwrap_err().code, "invalid_tag");
    }

    proptest! {
        #[test]
        fn parsed_subjects_are_valid_again(s in "\\PC{0,300}") {
            if let Ok(subject) = Subject::parse(&s) {
                prop_assert_eq!(Subject::parse(subject.as_str()).unwrap(), subject.clone());
                prop_assert!(!subject.as_str().contains('\n'));
            }
        }

        #[test]
        fn parsed_emails_are_stable(s in "[a-zA-Z0-9.+_-]{1,20}@[a-z0-9-]{1,10}\\.[a-z]{2,5}") {
            let e = EmailAddress::parse(&s).unwrap();
            prop_assert_eq!(EmailAddress::parse(e.as_str()).unwrap(), e);
        }
    }
}
