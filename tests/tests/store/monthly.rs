//! The dashboard's accepted series: every month of the window, oldest first, quotes
//! counted in the month they were created, currencies apart, zeros elsewhere.

use crate::fixtures::{new_org, priced_quote};
use crate::store::{Backend, CurrencyTotals};
use chrono::{DateTime, Duration, Months, Utc};
use quote_host::dashboard::month_window;
use quote_tests::bulk::set_created_at;
use quote_tests::on_both_stores;
use quote_tests::stores::Ctx;
use rust_decimal::Decimal;

fn figures(count: i64, total: &str) -> (i64, Decimal) {
    (count, total.parse().unwrap())
}

/// `(count, total)` of each currency, in currency order.
fn by_currency(accepted: &[CurrencyTotals]) -> Vec<(&str, (i64, Decimal))> {
    accepted
        .iter()
        .map(|c| (c.currency.as_str(), (c.accepted_count, c.accepted_total)))
        .collect()
}

on_both_stores!(accepted_by_month, accepted_by_month_scenario);
async fn accepted_by_month_scenario(ctx: &Ctx) {
    let s = &*ctx.store;
    let backend = match ctx.backend {
        Backend::Sqlite => quote_tests::Backend::Sqlite,
        Backend::Postgres => quote_tests::Backend::Postgres,
    };
    let org = new_org(s).await;
    let window = month_window(Utc::now(), 12);
    let months_back = |back: u32| window.month_start - Months::new(back);
    let oldest = months_back(11);
    // (currency, total, accepted, created at; None: now, this month)
    let seeds: [(&str, &str, bool, Option<DateTime<Utc>>); 7] = [
        ("RUB", "0.10", true, None),
        ("RUB", "0.20", true, None),
        ("USD", "5", true, None),
        (
            "USD",
            "7.25",
            true,
            Some(months_back(2) + Duration::days(14)),
        ),
        (
            "RUB",
            "1000",
            false,
            Some(months_back(1) + Duration::days(3)),
        ),
        // The first instant of the oldest month is in; the one before it is not.
        ("RUB", "3", true, Some(oldest)),
        ("RUB", "9", true, Some(oldest - Duration::microseconds(1))),
    ];
    for (currency, total, accepted, created_at) in seeds {
        let number = priced_quote(s, org, currency, total, accepted).await.number;
        if let Some(at) = created_at {
            set_created_at(backend, &ctx.url, &number, at).await;
        }
    }

    let stats = s.quote_stats(org, window).await.unwrap();
    let series = &stats.accepted_by_month;
    assert_eq!(series.len(), 12);
    for (index, month) in series.iter().enumerate() {
        assert_eq!(month.month_start, months_back(11 - index as u32), "{index}");
        let expected = match index {
            0 => [("RUB", figures(1, "3")), ("USD", figures(0, "0"))],
            9 => [("RUB", figures(0, "0")), ("USD", figures(1, "7.25"))],
            11 => [("RUB", figures(2, "0.30")), ("USD", figures(1, "5"))],
            _ => [("RUB", figures(0, "0")), ("USD", figures(0, "0"))],
        };
        assert_eq!(by_currency(&month.accepted), expected, "month {index}");
    }
    assert_eq!(
        series[11].accepted, stats.current_month.accepted,
        "this month's bar is the dashboard's figure of this month"
    );
    assert!(stats.previous_month.accepted.is_empty());

    // One month more reaches the quote just before the old series; one month only is
    // this month alone.
    let longer = s
        .quote_stats(org, month_window(Utc::now(), 13))
        .await
        .unwrap();
    assert_eq!(longer.accepted_by_month.len(), 13);
    assert_eq!(
        by_currency(&longer.accepted_by_month[0].accepted),
        [("RUB", figures(1, "9")), ("USD", figures(0, "0"))]
    );
    let single = s
        .quote_stats(org, month_window(Utc::now(), 1))
        .await
        .unwrap();
    assert_eq!(single.accepted_by_month.len(), 1);
    assert_eq!(single.accepted_by_month[0].month_start, window.month_start);

    // An organization that accepted nothing has every month, each with no currency.
    let quiet = new_org(s).await;
    let empty = s.quote_stats(quiet, window).await.unwrap();
    assert_eq!(empty.accepted_by_month.len(), 12);
    assert!(
        empty
            .accepted_by_month
            .iter()
            .all(|m| m.accepted.is_empty())
    );
}
