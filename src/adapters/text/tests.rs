//! Dumps of both layouts, bylines, headers, labels and what is skipped.

use super::lines::*;
use super::*;
use chrono::NaiveDate;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

#[test]
fn months_full_abbreviated_dotted() {
    assert_eq!(month_number("March"), Some(3));
    assert_eq!(month_number("Mar."), Some(3));
    assert_eq!(month_number("Sept."), Some(9));
    assert_eq!(month_number("sep"), Some(9));
    assert_eq!(month_number("Ma"), None);
    assert_eq!(month_number("Mayy"), None);
    assert_eq!(month_number("Marc"), None);
}

#[test]
fn bylines() {
    let b = byline(7, "Jeongmin Kim | Kelly Kasulis March 2, 2021").unwrap();
    assert_eq!(b.authors, ["Jeongmin Kim", "Kelly Kasulis"]);
    assert_eq!(b.date, Ok(d(2021, 3, 2)));
    let b = byline(1, "Chad O'Carroll Sept. 3, 2021").unwrap();
    assert_eq!(b.authors, ["Chad O'Carroll"]);
    assert_eq!(b.date, Ok(d(2021, 9, 3)));
    let b = byline(1, "Ludwig van Beethoven Sep 3, 2021").unwrap();
    assert_eq!(b.authors, ["Ludwig van Beethoven"]);
    let b = byline(1, "Kim Ito Mayy 40, 2021").unwrap();
    assert!(b.date.is_err());
    assert!(byline(1, "March 4, 2021").is_none());
    assert!(byline(1, "The summit opens on June 12, 2018").is_none());
    assert!(byline(1, "Seoul to spend $8 million by March 2, 2021").is_none());
}

#[test]
fn dates_only() {
    assert_eq!(date_only("March 04, 2021"), Some(Ok(d(2021, 3, 4))));
    assert_eq!(
        date_only("Thursday, March 4, 2021"),
        Some(Ok(d(2021, 3, 4)))
    );
    assert!(matches!(date_only("February 30, 2021"), Some(Err(_))));
    assert_eq!(date_only("Chapter 3, 2021"), None);
    assert_eq!(date_only("Colin Zwirko May 21, 2022"), None);
}

#[test]
fn labels() {
    assert!(shouting("NK PRO"));
    assert!(!shouting("Major outage disrupts"));
    assert!(!shouting("A VERY LONG SHOUTING HEADLINE ABOUT THINGS"));
    assert!(label_shaped("Analysis"));
    assert!(!label_shaped("Short sentence here."));
}
