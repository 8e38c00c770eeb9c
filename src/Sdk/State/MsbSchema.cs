namespace Microsandbox.State;

/// <summary>
/// The catalog schema exactly as msb 0.6.18 leaves it after running all of its sea-orm migrations:
/// the DDL text is what that binary stores in <c>sqlite_master</c>, statement for statement and in the
/// same order, so a catalog created here is indistinguishable from one msb created.
/// </summary>
internal static class MsbSchema
{
    /// <summary>The runtime release whose schema this is.</summary>
    public const string RuntimeVersion = "0.6.18";

    /// <summary>
    /// Rows of <c>seaql_migrations</c>, in the order msb applies them (its list is not sorted by name:
    /// the snapshot transition runs before the CPU allocation tables, and the network slot last).
    /// </summary>
    public static readonly IReadOnlyList<string> MigrationVersions =
    [
        "m20260305_000001_create_image_tables",
        "m20260305_000002_create_sandbox_tables",
        "m20260305_000003_create_storage_tables",
        "m20260305_000004_create_sandbox_images_table",
        "m20260410_000001_erofs_image_schema",
        "m20260501_000001_create_snapshot_index",
        "m20260517_000001_drop_sandbox_metric",
        "m20260527_000001_migrate_oci_rootfs_source",
        "m20260531_000001_create_sandbox_labels",
        "m20260531_000002_index_sandbox_labels_key_value",
        "m20260606_000001_named_volume_kinds",
        "m20260621_000001_add_sandbox_ephemeral",
        "m20260621_000002_create_maintenance_lease",
        "m20260703_000001_add_sandbox_active_config",
        "m20260708_000001_migrate_bind_rootfs_source",
        "m20260710_000001_migrate_root_disk",
        "m20260714_000001_add_snapshot_scope",
        "m20260723_000001_snapshot_artifact_transition",
        "m20260719_000001_create_cpu_allocations",
        "m20260803_000001_create_writeback_allocations",
        "m20260808_000001_create_memory_allocation_nodes",
        "m20260810_000001_rebuild_sandbox_labels",
        "m20260813_000001_share_cpu_allocations",
        "m20260824_000001_mount_owner_config",
        "m20260818_000001_sandbox_network_slot",
    ];

    /// <summary>CREATE statements, one per schema object, in msb's <c>sqlite_master</c> order.</summary>
    public static readonly IReadOnlyList<string> Statements =
    [
        """
        CREATE TABLE "seaql_migrations" ( "version" varchar NOT NULL PRIMARY KEY, "applied_at" integer NOT NULL )
        """,
        """
        CREATE TABLE "sandbox" ( "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" text NOT NULL UNIQUE, "config" text NOT NULL, "status" text NOT NULL, "created_at" datetime_text, "updated_at" datetime_text , "ephemeral" boolean NOT NULL DEFAULT FALSE, "active_config" text, network_slot INTEGER
            CHECK (
                network_slot IS NULL OR (
                    typeof(network_slot) = 'integer'
                    AND network_slot BETWEEN 1 AND 65535
                )
            ))
        """,
        """
        CREATE TABLE "run" ( "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "sandbox_id" integer NOT NULL, "pid" integer, "status" text NOT NULL, "exit_code" integer, "exit_signal" integer, "termination_reason" text, "termination_detail" text, "signals_sent" text, "started_at" datetime_text, "terminated_at" datetime_text, FOREIGN KEY ("sandbox_id") REFERENCES "sandbox" ("id") ON DELETE CASCADE )
        """,
        """
        CREATE TABLE "volume" ( "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" text NOT NULL UNIQUE, "quota_mib" integer, "size_bytes" integer, "labels" text, "created_at" datetime_text, "updated_at" datetime_text , "kind" text NOT NULL DEFAULT 'dir', "capacity_bytes" integer, "disk_format" text, "disk_fstype" text)
        """,
        """
        CREATE TABLE "manifest" ( "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "digest" text NOT NULL UNIQUE, "media_type" text, "config_digest" text, "architecture" text, "os" text, "variant" text, "layer_count" integer, "total_size_bytes" integer, "created_at" datetime_text )
        """,
        """
        CREATE TABLE "image_ref" ( "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "reference" text NOT NULL UNIQUE, "manifest_id" integer NOT NULL, "created_at" datetime_text, "updated_at" datetime_text, FOREIGN KEY ("manifest_id") REFERENCES "manifest" ("id") ON DELETE CASCADE )
        """,
        """
        CREATE TABLE "config" ( "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "manifest_id" integer NOT NULL UNIQUE, "digest" text NOT NULL, "env" text, "cmd" text, "entrypoint" text, "working_dir" text, "user" text, "labels" text, "stop_signal" text, "created_at" datetime_text, FOREIGN KEY ("manifest_id") REFERENCES "manifest" ("id") ON DELETE CASCADE )
        """,
        """
        CREATE TABLE "layer" ( "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "diff_id" text NOT NULL UNIQUE, "blob_digest" text NOT NULL, "media_type" text, "compressed_size_bytes" integer, "erofs_size_bytes" integer, "created_at" datetime_text, "last_used_at" datetime_text )
        """,
        """
        CREATE TABLE "manifest_layer" ( "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "manifest_id" integer NOT NULL, "layer_id" integer NOT NULL, "position" integer NOT NULL, FOREIGN KEY ("manifest_id") REFERENCES "manifest" ("id") ON DELETE CASCADE, FOREIGN KEY ("layer_id") REFERENCES "layer" ("id") ON DELETE RESTRICT )
        """,
        """
        CREATE UNIQUE INDEX "idx_manifest_layers_manifest_position" ON "manifest_layer" ("manifest_id", "position")
        """,
        """
        CREATE TABLE "sandbox_rootfs" ( "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "sandbox_id" integer NOT NULL UNIQUE, "manifest_id" integer, "mode" text NOT NULL, "upper_fstype" text, "created_at" datetime_text, "root_disk_kind" text NOT NULL DEFAULT 'managed', "root_disk_path" text, FOREIGN KEY ("sandbox_id") REFERENCES "sandbox" ("id") ON DELETE CASCADE, FOREIGN KEY ("manifest_id") REFERENCES "manifest" ("id") ON DELETE RESTRICT )
        """,
        """
        CREATE TABLE "sandbox_labels" ( "sandbox_id" integer NOT NULL, "key" text NOT NULL, "value" text NOT NULL, PRIMARY KEY ("sandbox_id", "key"), FOREIGN KEY ("sandbox_id") REFERENCES "sandbox" ("id") ON DELETE CASCADE )
        """,
        """
        CREATE INDEX "idx_sandbox_labels_sandbox_id" ON "sandbox_labels" ("sandbox_id")
        """,
        """
        CREATE INDEX "idx_sandbox_labels_key_value" ON "sandbox_labels" ("key", "value")
        """,
        """
        CREATE TABLE "volume_attach" ( "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "volume_id" integer NOT NULL, "sandbox_id" integer, "pid" integer NOT NULL, "mode" text NOT NULL, "created_at" datetime_text NOT NULL, FOREIGN KEY ("volume_id") REFERENCES "volume" ("id") ON DELETE CASCADE, FOREIGN KEY ("sandbox_id") REFERENCES "sandbox" ("id") ON DELETE SET NULL )
        """,
        """
        CREATE INDEX "idx_volume_attach_volume_id" ON "volume_attach" ("volume_id")
        """,
        """
        CREATE INDEX "idx_sandbox_ephemeral_status" ON "sandbox" ("ephemeral", "status")
        """,
        """
        CREATE TABLE "maintenance_lease" ( "name" text NOT NULL PRIMARY KEY, "holder_pid" integer, "lease_expires_at" datetime_text NOT NULL, "last_completed_at" datetime_text )
        """,
        """
        CREATE TABLE snapshot_index (digest TEXT NOT NULL PRIMARY KEY,name TEXT,parent_digest TEXT,scope TEXT NOT NULL,state_kind TEXT NOT NULL,image_ref TEXT NOT NULL,image_manifest_digest TEXT NOT NULL,format TEXT,fstype TEXT,checkpoint_manifest_digest TEXT,artifact_path TEXT NOT NULL,size_bytes BIGINT,locality TEXT NOT NULL DEFAULT 'embedded',storage_binding_id TEXT,availability TEXT NOT NULL DEFAULT 'ready',migration_state TEXT NOT NULL DEFAULT 'canonical',migration_error_code TEXT,created_at DATETIME NOT NULL,indexed_at DATETIME NOT NULL,child_count INTEGER NOT NULL DEFAULT 0)
        """,
        """
        CREATE UNIQUE INDEX idx_snapshot_index_name ON snapshot_index (name) WHERE name IS NOT NULL
        """,
        """
        CREATE INDEX idx_snapshot_index_parent ON snapshot_index (parent_digest)
        """,
        """
        CREATE INDEX idx_snapshot_index_image ON snapshot_index (image_manifest_digest)
        """,
        """
        CREATE TABLE snapshot_artifact_migration (id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,kind TEXT NOT NULL,artifact_path TEXT NOT NULL,indexed_digest TEXT,source_digest TEXT,target_digest TEXT,source_parent_digest TEXT,target_parent_digest TEXT,payload_integrity TEXT,payload_size BIGINT,payload_file_identity TEXT,phase TEXT NOT NULL,attempts INTEGER NOT NULL DEFAULT 0,error_code TEXT,error_detail TEXT,discovered_at DATETIME NOT NULL,updated_at DATETIME NOT NULL,completed_at DATETIME,recovery_member TEXT,translation_source TEXT,UNIQUE(kind, artifact_path))
        """,
        """
        CREATE INDEX idx_snapshot_artifact_migration_source ON snapshot_artifact_migration (kind, source_digest)
        """,
        """
        CREATE TABLE "cpu_allocation" ( "id" text NOT NULL PRIMARY KEY, "run_id" integer NOT NULL UNIQUE, "requested_policy" text NOT NULL, "resolved_policy" text NOT NULL, "enforcement" text NOT NULL, "topology_fingerprint" text NOT NULL, "lease_name" text NOT NULL UNIQUE, "state" text NOT NULL, "created_at" datetime_text NOT NULL, FOREIGN KEY ("run_id") REFERENCES "run" ("id") ON DELETE CASCADE )
        """,
        """
        CREATE TABLE "writeback_allocation" ( "id" text NOT NULL PRIMARY KEY, "run_id" integer NOT NULL UNIQUE, "lease_name" text NOT NULL UNIQUE, "per_disk_limit_bytes" integer NOT NULL, "disk_count" integer NOT NULL, "reserved_bytes" integer NOT NULL, "pool_bytes" integer NOT NULL, "boot_id" text NOT NULL, "backing_devices" text NOT NULL, "created_at" datetime_text NOT NULL )
        """,
        """
        CREATE TABLE "memory_allocation_node" ( "allocation_id" text NOT NULL, "guest_numa_node" integer NOT NULL, "host_numa_node" integer NOT NULL, "boot_mib" integer NOT NULL, "max_mib" integer NOT NULL, PRIMARY KEY ("allocation_id", "guest_numa_node"), FOREIGN KEY ("allocation_id") REFERENCES "cpu_allocation" ("id") ON DELETE CASCADE )
        """,
        """
        CREATE INDEX "idx_memory_allocation_node_host" ON "memory_allocation_node" ("host_numa_node")
        """,
        """
        CREATE TABLE cpu_allocation_cpu (
                allocation_id TEXT NOT NULL,
                vcpu_index INTEGER NOT NULL,
                logical_cpu INTEGER NOT NULL,
                role TEXT NOT NULL,
                PRIMARY KEY (allocation_id, vcpu_index),
                FOREIGN KEY (allocation_id) REFERENCES cpu_allocation(id) ON DELETE CASCADE
            )
        """,
        """
        CREATE INDEX idx_cpu_allocation_cpu_logical ON cpu_allocation_cpu(logical_cpu)
        """,
        """
        CREATE UNIQUE INDEX idx_sandbox_network_slot_unique
            ON sandbox (network_slot)
            WHERE network_slot IS NOT NULL
        """,
    ];
}
