//! Keyset pagination over 10,000 consumers: each seen exactly once, in a stable order, while
//! other consumers are being created, after the cursor (as the API makes them) and behind it.

mod common;

use common::*;
use consola::domain::*;
use consola::store::ConsumerInsert;
use std::collections::HashSet;

const SEEDED: usize = 10_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_consumer_seen_exactly_once_under_concurrent_inserts() {
    let t = TestServer::start().await;
    let sup = t.setup().await;
    let g = group(&sup, "Reportes", "reports").await;

    // Seed through the API, 100 requests at a time: well under the 256 connections one
    // address may hold, which a chunk of 250 could pass while the server was still closing
    // the last chunk's connections (seen once on PostgreSQL).
    let mut seeded = Vec::with_capacity(SEEDED);
    for chunk in (0..SEEDED).collect::<Vec<_>>().chunks(100) {
        let mut tasks = tokio::task::JoinSet::new();
        for &i in chunk {
            let client = sup.clone();
            let body = new_consumer(&format!("Consumidor {i:05}"), g.id);
            tasks.spawn(async move { client.create_consumer(&body).await.map(|c| c.consumer.id) });
        }
        while let Some(done) = tasks.join_next().await {
            seeded.push(done.unwrap().unwrap());
        }
    }
    let seeded: HashSet<_> = seeded.into_iter().collect();
    assert_eq!(seeded.len(), SEEDED);

    // Insert more while paging.
    let writer = {
        let client = sup.clone();
        let gid = g.id;
        tokio::spawn(async move {
            for i in 0..200 {
                client
                    .create_consumer(&new_consumer(&format!("Nuevo {i}"), gid))
                    .await
                    .unwrap();
            }
        })
    };
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    let mut behind_the_cursor = Vec::new();
    loop {
        let page = sup
            .consumers(&ConsumerQuery {
                q: None,
                limit: Some(137),
                cursor: cursor.clone(),
            })
            .await
            .unwrap();
        pages += 1;
        assert!(page.items.len() <= 137);
        assert!(page.total >= SEEDED as u64);
        seen.extend(page.items.iter().map(|c| c.id));
        // A consumer behind the cursor, between the first two of this page: ids the API
        // makes (UUIDv7) always sort after it, so only the store can put one there. A page
        // counted by offset would show the page's last consumer again on the next one.
        if let [first, second, ..] = page.items.as_slice() {
            let behind = uuid::Uuid::from_u128(first.id.as_u128() + 1);
            assert!(behind < second.id);
            insert_behind(&t, behind, g.id, pages).await;
            behind_the_cursor.push(behind);
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    writer.await.unwrap();
    let unique: HashSet<_> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no consumer appears twice");
    assert!(seeded.is_subset(&unique), "every seeded consumer was seen");
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "stable ascending order"
    );
    assert!(pages >= SEEDED / 137);
    assert!(
        behind_the_cursor.iter().all(|id| !unique.contains(id)),
        "a consumer made behind the cursor is not on a later page"
    );

    // The same walk again gives the same order.
    let first = sup
        .consumers(&ConsumerQuery {
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap();
    // Now with the consumers made behind the cursor, each in its place.
    let mut all: Vec<_> = seen.iter().chain(&behind_the_cursor).copied().collect();
    all.sort();
    assert_eq!(
        first.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        all[..500]
    );
    assert_eq!(
        first.total,
        SEEDED as u64 + 200 + behind_the_cursor.len() as u64
    );

    // Filtering goes through the server, with its own total.
    let filtered = sup
        .consumers(&ConsumerQuery {
            q: Some("consumidor 0999".into()),
            limit: Some(50),
            cursor: None,
        })
        .await
        .unwrap();
    assert_eq!(filtered.total, 10, "09990..09999");
    assert!(
        filtered
            .items
            .iter()
            .all(|c| c.name.starts_with("Consumidor 0999"))
    );
    // A page past the last one still says how many there are, with a search or without.
    let last = uuid::Uuid::max().to_string();
    let past_the_end = sup
        .consumers(&ConsumerQuery {
            q: None,
            limit: Some(10),
            cursor: Some(last.clone()),
        })
        .await
        .unwrap();
    assert!(past_the_end.items.is_empty());
    assert_eq!(past_the_end.total, first.total);
    let searched_past = sup
        .consumers(&ConsumerQuery {
            q: Some("consumidor 0999".into()),
            limit: Some(10),
            cursor: Some(last),
        })
        .await
        .unwrap();
    assert!(searched_past.items.is_empty());
    assert_eq!(searched_past.total, 10);
    let nothing = sup
        .consumers(&ConsumerQuery {
            q: Some("nadie se llama así".into()),
            limit: Some(10),
            cursor: None,
        })
        .await
        .unwrap();
    assert_eq!((nothing.items.len(), nothing.total), (0, 0));

    for bad in [0, 501] {
        let err = sup
            .consumers(&ConsumerQuery {
                limit: Some(bad),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(422));
        assert!(err.field_errors().get("limit").is_some());
    }
    let err = sup
        .consumers(&ConsumerQuery {
            cursor: Some("no-es-un-cursor".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(err.field_errors().get("cursor").is_some());
}

/// Stores a consumer with the id given, as the service would (the same fields, audited).
async fn insert_behind(t: &TestServer, id: uuid::Uuid, group: uuid::Uuid, n: usize) {
    let fields = ValidConsumer {
        name: format!("Detrás {n}"),
        description: String::new(),
        grant_type: GrantType::ClientCredentials,
        permission_group_id: group,
        hub_enabled: false,
        enabled: true,
        token_format: TokenFormat::Opaque,
        access_token_alg: Default::default(),
        redirect_uris: vec![],
        auth_method: Default::default(),
        jwks: None,
        jwks_uri: None,
        require_dpop: false,
    }
    .check()
    .expect("valid consumer");
    let secret = secret::generate(secret::SecretKind::ClientSecret);
    let now = chrono::Utc::now();
    let insert = ConsumerInsert {
        id,
        client_id: secret::generate_client_id(),
        secret_digest: Some(secret::digest(&secret)),
        secret_last_four: secret::last_four(&secret),
        created_at: now,
        created_by: "admin".into(),
        origin: Default::default(),
        approval: Default::default(),
        registration_token_digest: None,
        fields,
    };
    let event = NewAuditEvent {
        at: now,
        ip: "127.0.0.1".into(),
        actor: Actor {
            kind: "user".into(),
            name: "admin".into(),
        },
        action: AuditAction::Add,
        module: modules::CONSUMERS.into(),
        target: insert.fields.name.clone(),
        description: "Consumidor creado detrás del cursor".into(),
    };
    t.server
        .store()
        .insert_consumer(&insert, &event)
        .await
        .expect("insert behind the cursor");
}
