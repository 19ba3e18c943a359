"""Lesson 6: data tables. Make a table, add rows, query them, change one, clean up.

    python examples/lessons/06_data_tables.py
"""

from _account import account

from losant_fluent import API

with account() as acct:
    api = API(url=acct.url).login_user(acct.email, acct.password)
    app = api.applications(acct.application_id)

    # A table has typed columns; `constraint` says whether a cell may be empty or must be unique.
    table = app.data_tables().post(
        {
            "name": "Lesson inventory",
            "columns": [
                {"name": "part", "dataType": "string", "constraint": "unique"},
                {"name": "count", "dataType": "number", "constraint": "required"},
            ],
        }
    )
    table_node = app.data_tables(table.id)  # .../data-tables/{dataTableId}
    rows = table_node.rows()

    # One row, then several in one request (a list body).
    rows.post({"part": "valve", "count": 12})
    rows.post([{"part": "pipe", "count": 40}, {"part": "gauge", "count": 3}])

    # rows/query takes an advanced query: $eq, $ne, $gt, $gte, $lt, $lte, $in, $startsWith, ...
    low = rows.query().post({"count": {"$lt": 20}}, sortColumn="part")
    # A row reads its columns by name, row["part"], or as attributes: row.part.
    print(f"Parts with fewer than 20: {[row['part'] for row in low]}")

    # A row has an id; table_node.rows(row_id) is the path .../rows/{rowId}.
    valve = next(row for row in low if row.part == "valve")
    table_node.rows(valve.id).patch({"count": 25})
    print(f"valve now counts {table_node.rows(valve.id).get().count}")

    everything = rows.get()
    print(f"{everything.total_count} rows in {table.name!r}")
    table_node.delete()
    print("Table deleted")
