#include "server/store/sql_dialect.h"

#include <Poco/Data/LOB.h>
#include <Poco/Data/RecordSet.h>
#include <Poco/Data/Statement.h>

namespace enroll::store {
namespace {

void bindAll(Poco::Data::Statement& statement, std::initializer_list<SqlValue> values) {
  using Poco::Data::Keywords::bind;
  for (const SqlValue& value : values) {
    if (const auto* i = std::get_if<int64_t>(&value)) {
      statement, bind(Poco::Int64{*i});
    } else if (const auto* text = std::get_if<std::string_view>(&value)) {
      statement, bind(std::string(*text));
    } else {
      const auto& blob = std::get<SqlBlob>(value);
      statement, bind(Poco::Data::BLOB(blob.data, blob.size));
    }
  }
}

}  // namespace

size_t SqlDialect::execute(Poco::Data::Session& session, const std::string& sql,
                           std::initializer_list<SqlValue> values) const {
  Poco::Data::Statement statement(session);
  statement << sql;
  bindAll(statement, values);
  return statement.execute();
}

std::optional<std::vector<SqlField>> SqlDialect::queryRow(
    Poco::Data::Session& session, const std::string& sql,
    std::initializer_list<SqlValue> values) const {
  Poco::Data::Statement statement(session);
  statement << sql;
  bindAll(statement, values);
  statement.execute();
  Poco::Data::RecordSet rows(statement);
  if (!rows.moveFirst()) return std::nullopt;
  std::vector<SqlField> row;
  for (size_t column = 0; column < rows.columnCount(); ++column) {
    const Poco::Dynamic::Var& value = rows.value(column);
    if (value.isEmpty()) {
      row.emplace_back();
    } else if (value.isInteger()) {
      row.emplace_back(value.convert<Poco::Int64>());
    } else {
      row.emplace_back(value.convert<std::string>());
    }
  }
  return row;
}

}  // namespace enroll::store
