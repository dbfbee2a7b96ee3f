//! Exact numbers for rules: signed rationals over 512-bit integers.
//!
//! Amounts on chain are `uint256`/`int256`; rules multiply them by
//! percentages and compare ratios (`pct_change`). Floats would round; this
//! type never does. Results that do not fit are an [`Overflow`], never a
//! wrapped value.

use std::{cmp::Ordering, fmt};

use alloy_primitives::{I256, U256, ruint::Uint};

type U512 = Uint<512, 8>;
type U1024 = Uint<1024, 16>;

/// A number too large for exact rule arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow;

impl fmt::Display for Overflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("arithmetic overflow (beyond 512-bit exact arithmetic)")
    }
}

/// An exact signed rational number, always normalised (gcd 1, denominator > 0,
/// zero is non-negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Num {
    neg: bool,
    num: U512,
    den: U512,
}

impl Num {
    /// Zero.
    pub const ZERO: Self =
        Self { neg: false, num: U512::ZERO, den: U512::from_limbs([1, 0, 0, 0, 0, 0, 0, 0]) };

    fn new(neg: bool, num: U512, den: U512) -> Result<Self, Overflow> {
        if den.is_zero() {
            return Err(Overflow);
        }
        let g = num.gcd(den);
        let (num, den) = if g > U512::from(1u8) { (num / g, den / g) } else { (num, den) };
        Ok(Self { neg: neg && !num.is_zero(), num, den })
    }

    /// An integer.
    pub fn from_u256(v: U256) -> Self {
        Self { neg: false, num: U512::from(v), den: U512::from(1u8) }
    }

    /// A signed integer.
    pub fn from_i256(v: I256) -> Self {
        let (abs, neg) = (v.unsigned_abs(), v.is_negative());
        Self { neg, num: U512::from(abs), den: U512::from(1u8) }
    }

    /// A small integer.
    pub fn from_u64(v: u64) -> Self {
        Self::from_u256(U256::from(v))
    }

    /// `num / den`.
    ///
    /// # Errors
    /// [`Overflow`] when `den` is zero.
    pub fn ratio(num: U256, den: U256) -> Result<Self, Overflow> {
        Self::new(false, U512::from(num), U512::from(den))
    }

    /// `10^exp`.
    ///
    /// # Errors
    /// [`Overflow`] beyond 10^150.
    pub fn pow10(exp: u32) -> Result<Self, Overflow> {
        if exp > 150 {
            return Err(Overflow);
        }
        let v = U512::from(10u8).checked_pow(U512::from(exp)).ok_or(Overflow)?;
        Ok(Self { neg: false, num: v, den: U512::from(1u8) })
    }

    /// Whether the number is negative.
    pub const fn is_negative(&self) -> bool {
        self.neg
    }

    /// Whether the number is zero.
    pub fn is_zero(&self) -> bool {
        self.num.is_zero()
    }

    /// Whether the number is an integer.
    pub fn is_integer(&self) -> bool {
        self.den == U512::from(1u8)
    }

    /// Absolute value.
    #[must_use]
    pub const fn abs(self) -> Self {
        Self { neg: false, ..self }
    }

    /// Negation.
    #[must_use]
    pub fn negated(self) -> Self {
        Self { neg: !self.neg && !self.num.is_zero(), ..self }
    }

    /// Exact sum.
    ///
    /// # Errors
    /// [`Overflow`] when the result does not fit.
    pub fn checked_add(self, other: Self) -> Result<Self, Overflow> {
        if self.is_integer() && other.is_integer() {
            return Ok(if self.neg == other.neg {
                Self {
                    neg: self.neg,
                    num: self.num.checked_add(other.num).ok_or(Overflow)?,
                    den: self.den,
                }
            } else if self.num >= other.num {
                let num = self.num - other.num;
                Self { neg: self.neg && !num.is_zero(), num, den: self.den }
            } else {
                Self { neg: other.neg, num: other.num - self.num, den: self.den }
            });
        }
        let a = self.num.checked_mul(other.den).ok_or(Overflow)?;
        let b = other.num.checked_mul(self.den).ok_or(Overflow)?;
        let den = self.den.checked_mul(other.den).ok_or(Overflow)?;
        if self.neg == other.neg {
            Self::new(self.neg, a.checked_add(b).ok_or(Overflow)?, den)
        } else if a >= b {
            Self::new(self.neg, a - b, den)
        } else {
            Self::new(other.neg, b - a, den)
        }
    }

    /// Exact difference.
    ///
    /// # Errors
    /// [`Overflow`] when the result does not fit.
    pub fn checked_sub(self, other: Self) -> Result<Self, Overflow> {
        self.checked_add(other.negated())
    }

    /// Exact product.
    ///
    /// # Errors
    /// [`Overflow`] when the result does not fit.
    pub fn checked_mul(self, other: Self) -> Result<Self, Overflow> {
        if self.is_integer() && other.is_integer() {
            let num = self.num.checked_mul(other.num).ok_or(Overflow)?;
            return Ok(Self { neg: (self.neg != other.neg) && !num.is_zero(), num, den: self.den });
        }
        // cross-reduce first to keep intermediates small
        let g1 = self.num.gcd(other.den).max(U512::from(1u8));
        let g2 = other.num.gcd(self.den).max(U512::from(1u8));
        let num = (self.num / g1).checked_mul(other.num / g2).ok_or(Overflow)?;
        let den = (self.den / g2).checked_mul(other.den / g1).ok_or(Overflow)?;
        Self::new(self.neg != other.neg, num, den)
    }

    /// Exact quotient; `None` when dividing by zero.
    ///
    /// # Errors
    /// [`Overflow`] when the result does not fit.
    pub fn checked_div(self, other: Self) -> Result<Option<Self>, Overflow> {
        if other.is_zero() {
            return Ok(None);
        }
        let inv = Self { neg: other.neg, num: other.den, den: other.num };
        self.checked_mul(inv).map(Some)
    }

    /// Remainder of the truncated integer division (both operands integers);
    /// `None` when dividing by zero or an operand is fractional.
    pub fn checked_rem(self, other: Self) -> Option<Self> {
        if other.is_zero() || !self.is_integer() || !other.is_integer() {
            return None;
        }
        Some(Self {
            neg: self.neg && !(self.num % other.num).is_zero(),
            num: self.num % other.num,
            den: U512::from(1u8),
        })
    }

    /// The value as a `U256` when it is a non-negative integer that fits.
    pub fn to_u256(&self) -> Option<U256> {
        if self.neg || !self.is_integer() {
            return None;
        }
        U256::checked_from_limbs_slice(self.num.as_limbs()).or_else(|| {
            let l = self.num.as_limbs();
            l[4..].iter().all(|x| *x == 0).then(|| U256::from_limbs([l[0], l[1], l[2], l[3]]))
        })
    }
}

impl Ord for Num {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.neg, other.neg) {
            (false, true) => return Ordering::Greater,
            (true, false) => return Ordering::Less,
            _ => {}
        }
        if self.den == other.den {
            let mag = self.num.cmp(&other.num);
            return if self.neg { mag.reverse() } else { mag };
        }
        let a = U1024::from(self.num) * U1024::from(other.den);
        let b = U1024::from(other.num) * U1024::from(self.den);
        let mag = a.cmp(&b);
        if self.neg { mag.reverse() } else { mag }
    }
}

impl PartialOrd for Num {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Num {
    /// Integers print exactly; fractions print with up to 6 decimals (truncated).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.neg {
            f.write_str("-")?;
        }
        let int = self.num / self.den;
        write!(f, "{int}")?;
        let mut rem = self.num % self.den;
        if !rem.is_zero() {
            f.write_str(".")?;
            for _ in 0..6 {
                rem *= U512::from(10u8);
                write!(f, "{}", rem / self.den)?;
                rem %= self.den;
                if rem.is_zero() {
                    break;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(v: u64) -> Num {
        Num::from_u64(v)
    }

    #[test]
    fn exact_arithmetic() {
        let quarter = Num::ratio(U256::from(25), U256::from(100)).unwrap();
        assert_eq!(quarter.to_string(), "0.25");
        assert_eq!(quarter.checked_mul(n(1_000_000)).unwrap(), n(250_000));
        assert_eq!(n(3).checked_sub(n(5)).unwrap().to_string(), "-2");
        assert_eq!(n(1).checked_div(n(3)).unwrap().unwrap().to_string(), "0.333333");
        assert_eq!(n(7).checked_rem(n(3)), Some(n(1)));
        assert!(n(1).checked_div(Num::ZERO).unwrap().is_none());
        assert!(n(2).checked_sub(n(3)).unwrap() < Num::ZERO);
        assert!(quarter < Num::ratio(U256::from(1), U256::from(3)).unwrap());
        assert_eq!(n(5).checked_sub(n(5)).unwrap(), Num::ZERO);
        assert!(!Num::ZERO.negated().is_negative());
    }

    #[test]
    fn uint256_extremes_do_not_wrap() {
        let max = Num::from_u256(U256::MAX);
        assert!(max.checked_add(max).unwrap().checked_mul(n(2)).unwrap() > max);
        assert_eq!(max.to_u256(), Some(U256::MAX));
        // (2^256)^2 does not fit 512 bits signed-magnitude: overflow, not a wrap
        assert_eq!(max.checked_mul(max).unwrap().checked_mul(max), Err(Overflow));
        assert_eq!(Num::from_i256(I256::MINUS_ONE), n(1).negated());
    }
}
