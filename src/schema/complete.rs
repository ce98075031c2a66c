//! Completion questions a shell asks: which commands, which argument names at a dotted
//! path, which values an enum member takes.

use crate::json::Str;
use crate::schema::{Entry, MetaType, Schema, Slot};

/// The most type steps [`Schema::type_at`] takes (alternates, arrays and members on the way).
const MAX_STEPS: usize = 64;

impl<'a, I: AsRef<[Slot]>> Schema<'a, I> {
    /// The type found by following `path` (member names joined by `.`, as the shell writes
    /// them: `file.driver`) from a command's arguments; arrays are stepped into, alternates
    /// to their object or array branch, union variants searched in order. `None` when the
    /// path does not exist. The empty path is the arguments' type.
    pub fn type_at(&self, command: &str, path: &str) -> Option<Entry<'a>> {
        let mut ty = self.get(self.command(command)?.arg_type()?)?;
        let mut parts = path.split('.').filter(|p| !p.is_empty());
        let mut next = parts.next();
        for _ in 0..MAX_STEPS {
            match ty.meta_type() {
                MetaType::Array => ty = self.get(ty.element_type()?)?,
                MetaType::Alternate => {
                    ty = ty
                        .members()
                        .filter_map(|m| self.get(m.ty))
                        .find(|e| matches!(e.meta_type(), MetaType::Object | MetaType::Array))
                        .or_else(|| ty.members().find_map(|m| self.get(m.ty)))?;
                    if ty.meta_type() == MetaType::Alternate {
                        return None;
                    }
                }
                _ => {
                    let Some(name) = next else {
                        return Some(ty);
                    };
                    ty = self.member_type(ty, name)?;
                    next = parts.next();
                }
            }
        }
        None
    }

    /// The type of member `name` of object `ty`, looking in its union variants too.
    fn member_type(&self, ty: Entry<'a>, name: &str) -> Option<Entry<'a>> {
        let mut stack: heapless::Vec<Entry<'a>, 8> = heapless::Vec::new();
        let _ = stack.push(ty);
        let mut steps = 0;
        while let Some(t) = stack.pop() {
            steps += 1;
            if steps > MAX_STEPS {
                return None;
            }
            if let Some(m) = t.member(Str::from_body(name.as_bytes())) {
                return self.get(m.ty);
            }
            for (_, v) in t.variants() {
                if let Some(e) = self.get(v) {
                    if stack.push(e).is_err() {
                        break;
                    }
                }
            }
        }
        None
    }

    /// The member names an object at `path` of `command`'s arguments takes (see
    /// [`type_at`](Self::type_at)), base members first, then every union variant's (a
    /// name may repeat across variants). Empty when the path names no object.
    pub fn member_names(&self, command: &str, path: &str) -> impl Iterator<Item = Str<'a>> + '_ {
        let ty = self
            .type_at(command, path)
            .filter(|t| t.meta_type() == MetaType::Object);
        let base = ty
            .into_iter()
            .flat_map(|t| t.members().filter_map(|m| m.name));
        let variants = ty.into_iter().flat_map(move |t| {
            t.variants()
                .filter_map(move |(_, v)| self.get(v))
                .flat_map(|v| v.members().filter_map(|m| m.name))
        });
        base.chain(variants)
    }

    /// The values the enum member at `path` of `command`'s arguments takes (an enum
    /// inside an alternate or array is found too); empty when it is not an enum.
    pub fn enum_values(&self, command: &str, path: &str) -> impl Iterator<Item = Str<'a>> {
        let ty = self.type_at(command, path);
        let ty = match ty {
            Some(t) if t.meta_type() == MetaType::Enum => Some(t),
            Some(t) if t.meta_type() == MetaType::Alternate => t
                .members()
                .filter_map(|m| self.get(m.ty))
                .find(|e| e.meta_type() == MetaType::Enum),
            _ => None,
        };
        ty.into_iter().flat_map(|t| t.enum_values().map(|v| v.name))
    }
}
