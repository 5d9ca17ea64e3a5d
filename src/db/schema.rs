//! Diesel table definitions, written by hand to match both migration folders.

diesel::table! {
    local_keys (kind) {
        kind -> Text,
        private_key_pem -> Text,
        public_key_pem -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    bulletins (id) {
        id -> Text,
        kind -> Text,
        lang -> Text,
        title -> Text,
        body_markdown -> Text,
        content_html -> Text,
        in_reply_to -> Nullable<Text>,
        extra -> Nullable<Text>,
        created_at -> Timestamp,
        published_at -> Timestamp,
        updated_at -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
        change_type -> Nullable<Text>,
        state -> Nullable<Text>,
        starts_at -> Nullable<Timestamp>,
        ends_at -> Nullable<Timestamp>,
        federated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    bulletin_translations (bulletin_id, lang) {
        bulletin_id -> Text,
        lang -> Text,
        title -> Text,
        body_markdown -> Text,
        content_html -> Text,
    }
}

diesel::table! {
    services (slug) {
        slug -> Text,
        name -> Text,
        software -> Text,
        url -> Text,
        description -> Text,
        audience -> Text,
        registration -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        removed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    bulletin_services (bulletin_id, service_slug) {
        bulletin_id -> Text,
        service_slug -> Text,
    }
}

diesel::table! {
    label_grades (criterion) {
        criterion -> Text,
        grade -> Text,
        comment -> Nullable<Text>,
        evidence -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    label_history (id) {
        id -> BigInt,
        criterion -> Text,
        old_grade -> Nullable<Text>,
        new_grade -> Text,
        comment -> Nullable<Text>,
        evidence -> Nullable<Text>,
        bulletin_id -> Nullable<Text>,
        changed_at -> Timestamp,
    }
}

diesel::table! {
    domain_blocks (domain) {
        domain -> Text,
        reason -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    timeline_items (id) {
        id -> Text,
        actor_id -> Text,
        domain -> Text,
        is_local -> Bool,
        kind -> Text,
        change_type -> Nullable<Text>,
        impact -> Nullable<Text>,
        lang -> Nullable<Text>,
        published_at -> Timestamp,
        entry -> Nullable<Text>,
    }
}

diesel::table! {
    timeline_services (service, published_at, item_id) {
        service -> Text,
        published_at -> Timestamp,
        item_id -> Text,
    }
}

diesel::table! {
    peer_directory (actor_id) {
        actor_id -> Text,
        domain -> Text,
        name -> Nullable<Text>,
        host_profile -> Nullable<Text>,
        services -> Nullable<Text>,
        label -> Nullable<Text>,
        fetched_at -> Timestamp,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    followers (id) {
        id -> BigInt,
        actor_id -> Text,
        inbox -> Text,
        shared_inbox -> Nullable<Text>,
        status -> Text,
        follow_activity_id -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    following (actor_id) {
        actor_id -> Text,
        inbox -> Text,
        follow_activity_id -> Text,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    remote_actors (id) {
        id -> Text,
        actor_type -> Text,
        preferred_username -> Text,
        name -> Nullable<Text>,
        inbox -> Text,
        shared_inbox -> Nullable<Text>,
        outbox -> Nullable<Text>,
        public_key_id -> Text,
        public_key_pem -> Text,
        raw -> Text,
        fetched_at -> Timestamp,
    }
}

diesel::table! {
    activities (id) {
        id -> Text,
        kind -> Text,
        object_id -> Text,
        json -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    deliveries (id) {
        id -> BigInt,
        activity_id -> Text,
        inbox -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        locked_by -> Nullable<Text>,
    }
}

diesel::table! {
    delivery_processes (id) {
        id -> Text,
        name -> Text,
        started_at -> Timestamp,
        seen_at -> Timestamp,
    }
}

diesel::table! {
    inbox_health (inbox) {
        inbox -> Text,
        consecutive_failures -> Integer,
        last_success_at -> Nullable<Timestamp>,
        last_failure_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        failing_since -> Nullable<Timestamp>,
        paused_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    received_activities (id) {
        id -> Text,
        actor_id -> Text,
        kind -> Text,
        received_at -> Timestamp,
    }
}

diesel::table! {
    remote_posts (id) {
        id -> Text,
        actor_id -> Text,
        object_type -> Text,
        content_html -> Text,
        summary -> Nullable<Text>,
        url -> Nullable<Text>,
        lang -> Nullable<Text>,
        in_reply_to -> Nullable<Text>,
        published_at -> Timestamp,
        updated_at -> Nullable<Timestamp>,
        raw -> Text,
        received_at -> Timestamp,
        kind -> Nullable<Text>,
        meta -> Nullable<Text>,
    }
}

diesel::table! {
    tombstones (object_id) {
        object_id -> Text,
        actor_id -> Text,
        deleted_at -> Timestamp,
    }
}

diesel::table! {
    admins (username) {
        username -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    admin_sessions (token_hash) {
        token_hash -> Text,
        username -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        username -> Text,
        ip -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        name -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    email_subscribers (id) {
        id -> Text,
        email -> Text,
        lang -> Text,
        scope -> Text,
        services -> Text,
        token -> Text,
        requested_from -> Nullable<Text>,
        created_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        url -> Text,
        secret -> Text,
        events -> Text,
        kinds -> Text,
        services -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> BigInt,
        channel -> Text,
        target -> Text,
        event -> Text,
        bulletin_id -> Nullable<Text>,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    collective_members (actor_id) {
        actor_id -> Text,
        handle -> Text,
        state -> Text,
        joined_via -> Text,
        join_activity_id -> Nullable<Text>,
        since -> Timestamp,
        approved_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    collective_followers (actor_id) {
        actor_id -> Text,
        inbox -> Text,
        shared_inbox -> Nullable<Text>,
        status -> Text,
        follow_activity_id -> Text,
        is_relay -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    collective_reshares (object_id) {
        object_id -> Text,
        member_actor_id -> Text,
        announce_id -> Text,
        created_at -> Timestamp,
        undone_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    collective_joins (group_actor_id) {
        group_actor_id -> Text,
        handle -> Text,
        join_activity_id -> Text,
        state -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(deliveries -> activities (activity_id));
diesel::joinable!(timeline_services -> timeline_items (item_id));
diesel::joinable!(bulletin_services -> bulletins (bulletin_id));
diesel::joinable!(bulletin_services -> services (service_slug));
diesel::allow_tables_to_appear_in_same_query!(
    local_keys,
    peer_directory,
    timeline_items,
    timeline_services,
    domain_blocks,
    bulletins,
    bulletin_translations,
    services,
    bulletin_services,
    label_grades,
    label_history,
    settings,
    followers,
    following,
    remote_actors,
    activities,
    deliveries,
    delivery_processes,
    inbox_health,
    received_activities,
    remote_posts,
    tombstones,
    api_tokens,
    collective_members,
    collective_followers,
    collective_reshares,
    collective_joins,
);

diesel::table! {
    signature_schemes (domain) {
        domain -> Text,
        scheme -> Text,
        learned_at -> Timestamp,
    }
}

diesel::table! {
    local_ed25519_keys (kind) {
        kind -> Text,
        private_key_pkcs8 -> Text,
        public_key_multibase -> Text,
        created_at -> Timestamp,
    }
}
