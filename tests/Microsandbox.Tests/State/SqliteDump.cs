using Microsoft.Data.Sqlite;

namespace Microsandbox.Tests.State;

/// <summary>Reads a catalog file directly (bypassing the store) so tests compare what is really on disk.</summary>
internal static class SqliteDump
{
    public static SqliteConnection Open(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    public static List<string[]> Rows(string path, string sql)
    {
        using var connection = Open(path);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<string[]>();
        while (reader.Read())
        {
            var row = new string[reader.FieldCount];
            for (var i = 0; i < reader.FieldCount; i++)
            {
                row[i] = reader.IsDBNull(i) ? "<null>" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)!;
            }

            rows.Add(row);
        }

        return rows;
    }

    public static void Execute(string path, string sql)
    {
        using var connection = Open(path);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Schema objects as "type|name|table|sql", in sqlite_master order.</summary>
    public static List<string> SchemaObjects(string path) =>
        Rows(path, "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master ORDER BY rowid")
            .Select(r => string.Join('|', r)).ToList();

    /// <summary>Every column of every table as "table.cid name type notnull default pk", plus every index's columns.</summary>
    public static List<string> Columns(string path)
    {
        var tables = Rows(path, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").Select(r => r[0]).ToList();
        var result = new List<string>();
        foreach (var table in tables)
        {
            result.AddRange(Rows(path, $"SELECT cid, name, type, \"notnull\", coalesce(dflt_value, '<none>'), pk FROM pragma_table_info('{table}')")
                .Select(r => table + "." + string.Join(' ', r)));
            result.AddRange(Rows(path, $"SELECT name, \"unique\", origin, partial FROM pragma_index_list('{table}') ORDER BY name")
                .Select(r => table + " index " + string.Join(' ', r)));
            result.AddRange(Rows(path, $"SELECT \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list('{table}') ORDER BY \"from\"")
                .Select(r => table + " fk " + string.Join(' ', r)));
        }

        return result;
    }
}
