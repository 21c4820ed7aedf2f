#include "text.h"

#include <cstdlib>
#include <map>

namespace timebank::cli {

namespace {

struct Phrase {
  const char* en;
  const char* zh;
};

const std::map<std::string_view, Phrase>& Phrases() {
  static const std::map<std::string_view, Phrase> p = {
      {"account", {"account", "账户"}},
      {"balance", {"balance", "余额"}},
      {"served", {"served", "服务时长"}},
      {"type", {"type", "类型"}},
      {"community", {"community", "社区"}},
      {"birth_year", {"birth year", "出生年份"}},
      {"entry", {"entry", "记录"}},
      {"index", {"index", "序号"}},
      {"change", {"change", "变动"}},
      {"kind", {"kind", "类型"}},
      {"time", {"time", "时间"}},
      {"id", {"id", "编号"}},
      {"district", {"district", "区"}},
      {"name", {"name", "名称"}},
      {"size", {"log size", "日志条数"}},
      {"origin", {"origin", "日志名"}},
      {"verifier_key", {"verifier key", "验证公钥"}},
      {"public_key", {"public key", "公钥"}},
      {"key_file", {"key file", "密钥文件"}},
      {"recorded", {"recorded", "已记录"}},
      {"peers", {"other districts (as this node follows them):", "其他各区（本节点的跟随情况）："}},
      {"copied", {"copied", "已复制"}},
      {"synced", {"synced", "已同步"}},
      {"EQUIVOCATION",
       {"EQUIVOCATION: signed two conflicting trees", "分叉：签署了两棵相互矛盾的树"}},
      {"entries", {"entries", "条记录"}},
      {"accounts", {"accounts", "个账户"}},
      {"issued", {"issued", "已发行"}},
      {"in transit", {"in transit between districts:", "区间在途："}},
      {"parked", {"parked (unknown accounts):", "挂账（未知账户）："}},
      {"audit passed",
       {"audit passed: every log verifies, balances and sums check out",
        "审计通过：各区账本均已核验，余额与合计无误"}},
      {"audit failed", {"audit FAILED", "审计未通过"}},
      {"forwarded home",
       {"forwarded to the home district, receipt verified:", "已转交户籍区并核验回执："}},
      {"duplicate", {"already recorded", "此前已记录"}},
      {"refused", {"refused", "被拒绝"}},
      {"registered", {"registered", "已登记"}},
      {"hold", {"hold", "冻结"}},
      {"migrate", {"move home", "迁移"}},
      {"claim", {"claim", "离线结算"}},
      {"unpaid claims", {"unpaid claims", "未付结算"}},
      {"parked credits", {"credits for accounts unknown here", "未知账户的入账"}},
      {"moved to", {"moved home to", "已迁往"}},
      {"clearing", {"clearing report", "清算报表"}},
      {"liability", {"owes", "负债"}},
      {"to_excluded", {"the last day not included", "不含末日"}},
      {"at_cap",
       {"the balance is at the policy's cap of {}: hours beyond it went to the pool",
        "余额已达政策上限 {}：超出部分已转入公益池"}},
      {"clearing_legend",
       {"entries: of each log as this node holds it; issued: hours minted in the district's "
        "log; owes: its accounts, pool and holds at the end; columns: its people's redemptions "
        "by the district that gave the care",
        "记录数：本节点所存各区账本的条数；发行：该区账本记入的时长；负债：期末该区账户、公益池与冻"
        "结之和；各列：该区居民在各区兑换的"
        "时长"}},
      {"expires", {"expires", "到期"}},
      {"verified", {"verified", "验证通过"}},
      {"not_verified", {"NOT verified", "验证失败"}},
      {"checkpoint", {"checkpoint", "检查点"}},
      {"root_hash", {"root hash", "根哈希"}},
      {"tree_size", {"tree size", "树大小"}},
      {"leaf_hash", {"leaf hash", "叶哈希"}},
      {"signature", {"entry signature", "记录签名"}},
      {"inclusion", {"inclusion proof", "包含证明"}},
      {"cp_signature", {"checkpoint signature", "检查点签名"}},
      {"no_history", {"no entries yet", "暂无记录"}},
      {"more", {"more: --from", "更多: --from"}},
      {"unreachable", {"node unreachable", "无法连接节点"}},
      {"error", {"error", "错误"}},
      {"exported", {"exported", "已导出"}},
      {"rows", {"rows", "行"}},
      {"granted", {"granted", "已授权"}},
      {"roles", {"roles", "角色"}},
      {"person", {"person", "个人"}},
      {"health", {"health", "运行状态"}},
      {"outstanding", {"in accounts", "账户结余"}},
      {"pool", {"public pool", "公益池"}},
      {"held", {"held", "冻结中"}},
      {"redeemed", {"redeemed", "累计兑换"}},
      {"phone", {"phone", "手机号"}},
      {"stored", {"stored", "已保存"}},
      {"erased", {"erased", "已删除"}},
      {"no alerts", {"no alerts", "无告警"}},
      {"alert cleared", {"alert cleared", "告警已解除"}},
      {"evidence kept in", {"evidence kept in", "证据保存于"}},
      {"realname", {"real-name record", "实名信息"}},
      {"group", {"group", "团体"}},
      {"system", {"system", "系统"}},
  };
  return p;
}

}  // namespace

Lang PickLang(const std::string& flag) {
  std::string v = flag;
  if (v.empty())
    for (const char* var : {"LC_ALL", "LANG"})
      if (const char* e = std::getenv(var); e && *e) {
        v = e;
        break;
      }
  return v.rfind("zh", 0) == 0 ? Lang::kZh : Lang::kEn;
}

std::string_view T(Lang lang, std::string_view key) {
  auto it = Phrases().find(key);
  if (it == Phrases().end()) return key;
  return lang == Lang::kZh ? it->second.zh : it->second.en;
}

std::string Hours(Lang lang, ledger::Minutes minutes) {
  std::string h = ledger::FormatHours(minutes);  // "12.5 h"
  if (lang == Lang::kZh) h = h.substr(0, h.size() - 2) + " 小时";
  return h;
}

std::size_t DisplayWidth(std::string_view s) {
  std::size_t w = 0;
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = s[i];
    const int len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    w += len >= 3 ? 2 : 1;  // CJK (3-byte UTF-8) is double width in terminals
    i += len;
  }
  return w;
}

std::string Rows(const std::vector<std::pair<std::string, std::string>>& rows) {
  std::size_t width = 0;
  for (const auto& [label, _] : rows) width = std::max(width, DisplayWidth(label));
  std::string out;
  for (const auto& [label, value] : rows)
    out += label + std::string(width - DisplayWidth(label) + 2, ' ') + value + "\n";
  return out;
}

}  // namespace timebank::cli
