--[[
quarto_subset.lua: the part of Quarto the letters use, for pandoc 3 alone (HTML and typst).

Why: Quarto cannot be installed everywhere the letters are built, but the letters are written in Quarto
Markdown. The shortcodes ({{< var >}}, {{< meta >}}, {{< include >}}) are expanded in Python before pandoc
runs (rendering/shortcodes.py: that is where file and line numbers are known). This filter does the rest:

  * figures `![Caption](figures/x.svg){#fig-x fig-alt="..."}` get numbered captions "Figure N : Caption",
    the fig-alt text as the image's alt (HTML <img alt>; in typst a raw `#figure(image(..., alt: ...))`,
    because pandoc's typst writer drops alt text), and, in HTML, a link "Télécharger les données (CSV)" to
    figures/x.csv when that file exists;
  * tables with a caption `: Caption {#tbl-x}` get "Tableau N : Caption", and in HTML a data link to
    tables/x.csv when it exists;
  * `@fig-x` / `@tbl-x` become links "figure N" / "tableau N" (`@Fig-x` capitalised, `[-@fig-x]` the bare
    number), the French forms Quarto produces with `crossref: fig-prefix: figure`;
  * callouts (note, important, warning, tip) become titled boxes, default titles Note, Important, Attention,
    Conseil;
  * `.key-figures` holding `.key-figure` divs become a band of boxes (CSS flex in HTML, a grid in typst).

Under Quarto (the global `quarto` exists) Quarto does numbering, cross-references and callouts itself; this
filter then only builds the key-figures band and the data links, which Quarto does not know about.

Numbers: counters are Lua integers, but numbers read from JSON metadata arrive as floats ("2023.0");
`int_text` prints them as integers.
]]

local NBSP = "\u{00A0}"
local NNBSP = "\u{202F}"
local DATA_LINK_TEXT = "Télécharger les données (CSV)"
local CALLOUT_TITLES = { note = "Note", important = "Important", warning = "Attention", tip = "Conseil" }

local is_html = FORMAT:match("html") ~= nil
local is_typst = FORMAT:match("typst") ~= nil
local in_quarto = type(quarto) == "table"

--- Text of a number without a spurious ".0" (JSON numbers reach Lua as floats).
local function int_text(x)
  if type(x) == "number" then
    local i = math.tointeger(x)
    if i == nil and x == math.floor(x) then
      i = math.tointeger(math.floor(x))
    end
    return i and tostring(i) or tostring(x)
  end
  local s = pandoc.utils.stringify(x)
  return s:match("^(%-?%d+)%.0+$") or s
end

local function file_exists(path)
  local f = io.open(path, "rb")
  if f then
    f:close()
    return true
  end
  return false
end

--- Inlines as typst markup, for content arguments `[...]` of raw typst calls.
local function typst_inlines(inlines)
  local out = pandoc.write(pandoc.Pandoc({ pandoc.Plain(inlines) }), "typst")
  return (out:gsub("%s+$", ""))
end

--- A typst string literal.
local function typst_string(s)
  s = s:gsub("\\", "\\\\"):gsub('"', '\\"'):gsub("[\r\n]+", " ")
  return '"' .. s .. '"'
end

--- The data file beside an image: figures/x.svg -> figures/x.csv.
local function data_file_for(src)
  local stem = src:gsub("%.[%w]+$", "")
  return stem .. ".csv"
end

local function data_link(href, what)
  -- Same visible text for every figure (as the letters' charter says); the aria-label tells screen-reader
  -- users which figure's data it is.
  local link = pandoc.Link(
    { pandoc.Str(DATA_LINK_TEXT) },
    href,
    "",
    -- attributes as a list of pairs: a Lua table with keys has no fixed order, and the bytes must not vary
    pandoc.Attr("", { "data-link" }, {
      { "download", "" },
      { "aria-label", (DATA_LINK_TEXT:gsub("données", "données " .. what)) },
    })
  )
  return pandoc.Div({ pandoc.Para({ link }) }, pandoc.Attr("", { "data-download" }))
end

-- Numbering -----------------------------------------------------------------------------------------------

local numbers = { fig = {}, tbl = {} }

local function first_image(blocks)
  local found
  pandoc.Blocks(blocks):walk({
    Image = function(img)
      found = found or img
    end,
  })
  return found
end

local function number_targets(doc)
  local count = { fig = 0, tbl = 0 }
  local function take(kind, id)
    if numbers[kind][id] then
      error("quarto_subset.lua: duplicate identifier #" .. id)
    end
    count[kind] = count[kind] + 1
    numbers[kind][id] = count[kind]
  end
  doc:walk({
    traverse = "topdown",
    Figure = function(fig)
      if fig.identifier:match("^fig%-") then
        take("fig", fig.identifier)
      end
    end,
    Table = function(tbl)
      if tbl.identifier:match("^tbl%-") then
        take("tbl", tbl.identifier)
      end
    end,
  })
end

-- Cross-references ----------------------------------------------------------------------------------------

local WORDS = { fig = "figure", tbl = "tableau" }

local function cite(el)
  local links = {}
  local kinds = {}
  for _, c in ipairs(el.citations) do
    local prefix, rest = c.id:match("^(%a+)%-(.+)$")
    local kind = prefix and prefix:lower()
    if not (kind and WORDS[kind]) then
      return nil -- not a cross-reference; lint reports citations outside the subset
    end
    local id = kind .. "-" .. rest
    local n = numbers[kind][id]
    if n == nil then
      error("quarto_subset.lua: reference @" .. c.id .. " to a " .. WORDS[kind] .. " that does not exist")
    end
    kinds[#kinds + 1] = { kind = kind, capital = prefix:sub(1, 1):match("%u") ~= nil, mode = c.mode }
    links[#links + 1] = { id = id, n = int_text(n) }
  end
  local out = pandoc.Inlines({})
  local plural = #links > 1
  for i, l in ipairs(links) do
    local k = kinds[i]
    local text = l.n
    if k.mode ~= "SuppressAuthor" and (i == 1 or k.kind ~= kinds[i - 1].kind) then
      local word = WORDS[k.kind] .. ((plural and k.kind == (kinds[i + 1] or {}).kind) and "s" or "")
      if k.capital then
        word = word:sub(1, 1):upper() .. word:sub(2)
      end
      text = word .. NBSP .. l.n
    end
    if i > 1 then
      out:insert(pandoc.Str(i == #links and " et" or ","))
      out:insert(pandoc.Space())
    end
    out:insert(pandoc.Link({ pandoc.Str(text) }, "#" .. l.id, "", pandoc.Attr("", { "xref" })))
  end
  return out
end

-- Figures and tables -----------------------------------------------------------------------------------------

local function label(kind, n)
  local word = kind == "fig" and "Figure" or "Tableau"
  return pandoc.Span(
    { pandoc.Strong({ pandoc.Str(word .. NBSP .. int_text(n) .. NBSP .. ":") }) },
    pandoc.Attr("", { kind == "fig" and "figure-label" or "table-label" })
  )
end

local function caption_inlines(caption)
  return pandoc.utils.blocks_to_inlines(caption.long or {})
end

local function figure(fig)
  local id = fig.identifier
  if not id:match("^fig%-") then
    return nil
  end
  local img = first_image(fig.content)
  if img == nil then
    error("quarto_subset.lua: figure #" .. id .. " holds no image")
  end
  local n = numbers.fig[id]
  local alt = img.attributes["fig-alt"] or pandoc.utils.stringify(img.caption)
  local caption = pandoc.Inlines({ label("fig", n), pandoc.Space() })
  caption:extend(caption_inlines(fig.caption))
  local data = data_file_for(img.src)
  local has_data = file_exists(data)

  if is_typst then
    local raw = string.format(
      "#figure(obs-image(%s, %s), caption: [%s], kind: image, numbering: none) <%s>",
      typst_string(img.src),
      typst_string(alt),
      typst_inlines(caption),
      id
    )
    return pandoc.RawBlock("typst", raw)
  end

  img.attributes["fig-alt"] = nil
  img.caption = { pandoc.Str(alt) }
  fig.content = { pandoc.Plain({ img }) }
  fig.caption = pandoc.Caption({ pandoc.Plain(caption) })
  fig.classes:insert("letter-figure")
  if is_html and has_data then
    return { fig, data_link(data, "de la figure" .. NBSP .. int_text(n)) }
  end
  return fig
end

local function table_(tbl)
  local id = tbl.identifier
  if not id:match("^tbl%-") then
    return nil
  end
  local n = numbers.tbl[id]
  local caption = pandoc.Inlines({ label("tbl", n), pandoc.Space() })
  caption:extend(caption_inlines(tbl.caption))
  tbl.caption = pandoc.Caption({ pandoc.Plain(caption) })
  local data = "tables/" .. id:sub(5) .. ".csv"
  if is_html and file_exists(data) then
    return { tbl, data_link(data, "du tableau" .. NBSP .. int_text(n)) }
  end
  return tbl
end

-- Callouts and key figures -----------------------------------------------------------------------------------

local function callout_kind(div)
  for _, class in ipairs(div.classes) do
    local kind = class:match("^callout%-(%a+)$")
    if kind then
      return kind
    end
  end
  return nil
end

local function callout(div, kind)
  if CALLOUT_TITLES[kind] == nil then
    error("quarto_subset.lua: callout-" .. kind .. " is not one of note, important, warning, tip")
  end
  local content = pandoc.Blocks(div.content)
  local title
  if div.attributes.title then
    title = pandoc.utils.blocks_to_inlines(pandoc.read(div.attributes.title, "markdown").blocks)
  elseif content[1] and content[1].t == "Header" then
    title = content[1].content
    content:remove(1)
  else
    title = { pandoc.Str(CALLOUT_TITLES[kind]) }
  end
  if is_typst then
    local out = pandoc.Blocks({
      pandoc.RawBlock(
        "typst",
        string.format("#obs-callout(kind: %s, title: [%s])[", typst_string(kind), typst_inlines(title))
      ),
    })
    out:extend(content)
    out:insert(pandoc.RawBlock("typst", "]"))
    return out
  end
  local box = pandoc.Blocks({
    pandoc.Div({ pandoc.Para({ pandoc.Strong(title) }) }, pandoc.Attr("", { "callout-title" })),
    pandoc.Div(content, pandoc.Attr("", { "callout-body" })),
  })
  return pandoc.Div(box, pandoc.Attr(div.identifier, { "callout", "callout-" .. kind }, { role = "note" }))
end

--- A key figure's number line and label line: one paragraph split at its first line break, or two blocks.
local function split_key_figure(div)
  local blocks = div.content
  if #blocks == 1 and (blocks[1].t == "Para" or blocks[1].t == "Plain") then
    local value, label_ = pandoc.Inlines({}), pandoc.Inlines({})
    local target = value
    for _, il in ipairs(blocks[1].content) do
      if target == value and (il.t == "SoftBreak" or il.t == "LineBreak") then
        target = label_
      else
        target:insert(il)
      end
    end
    return value, label_
  elseif #blocks >= 2 then
    local rest = pandoc.Blocks({})
    for i = 2, #blocks do
      rest:insert(blocks[i])
    end
    return pandoc.utils.blocks_to_inlines({ blocks[1] }), pandoc.utils.blocks_to_inlines(rest)
  end
  error("quarto_subset.lua: a key-figure holds a number line then a label line")
end

--- Classes of a key figure's value: a value with no digit is a sentence ("donnée non disponible"), set smaller.
local function value_classes(value)
  if pandoc.utils.stringify(value):find("%d") then
    return { "key-figure-value" }
  end
  return { "key-figure-value", "key-figure-text" }
end

local function key_figures(div)
  local items = {}
  for _, b in ipairs(div.content) do
    if b.t == "Div" and b.classes:includes("key-figure") then
      local value, label_ = split_key_figure(b)
      items[#items + 1] = { value = value, label = label_ }
    else
      error("quarto_subset.lua: .key-figures may only hold .key-figure divs (found " .. b.t .. ")")
    end
  end
  if is_typst then
    local args = {}
    for _, it in ipairs(items) do
      -- a value with no digit is a sentence ("donnée non disponible"): set smaller, never hyphenated
      local textual = pandoc.utils.stringify(it.value):find("%d") == nil
      args[#args + 1] = string.format(
        "(value: [%s], label: [%s], textual: %s)",
        typst_inlines(it.value),
        typst_inlines(it.label),
        textual and "true" or "false"
      )
    end
    return pandoc.RawBlock("typst", "#key-figures(\n  " .. table.concat(args, ",\n  ") .. ",\n)")
  end
  local boxes = {}
  for _, it in ipairs(items) do
    boxes[#boxes + 1] = pandoc.Div({
      pandoc.Div({ pandoc.Plain(it.value) }, pandoc.Attr("", value_classes(it.value))),
      pandoc.Div({ pandoc.Plain(it.label) }, pandoc.Attr("", { "key-figure-label" })),
    }, pandoc.Attr("", { "key-figure" }, { role = "listitem" }))
  end
  return pandoc.Div(boxes, pandoc.Attr(div.identifier, { "key-figures" }, { role = "list" }))
end

local function div(el)
  if el.classes:includes("key-figures") then
    return key_figures(el)
  end
  if in_quarto then
    return nil
  end
  local kind = callout_kind(el)
  if kind then
    return callout(el, kind)
  end
  return nil
end

--- French quotation marks in HTML (typst sets them itself from `lang: fr`).
local function quoted(el)
  if not is_html or el.quotetype ~= "DoubleQuote" then
    return nil
  end
  local out = pandoc.Inlines({ pandoc.Str("«" .. NNBSP) })
  out:extend(el.content)
  out:insert(pandoc.Str(NNBSP .. "»"))
  return out
end

-- Under Quarto: only what Quarto lacks (data links after figures, the key-figures band).
local function quarto_figure(fig)
  if not (is_html and fig.identifier:match("^fig%-")) then
    return nil
  end
  local img = first_image(fig.content)
  if img and file_exists(data_file_for(img.src)) then
    return { fig, data_link(data_file_for(img.src), "de la figure") }
  end
  return nil
end

-- Helpers exposed for tests/test_rendering.py (a table, so pandoc does not take it for a filter function).
ObservatoireSubset = { int_text = int_text, typst_string = typst_string }

function Pandoc(doc)
  if in_quarto then
    return doc:walk({ Div = div, Figure = quarto_figure })
  end
  number_targets(doc)
  return doc:walk({
    Cite = cite,
    Quoted = quoted,
    Figure = figure,
    Table = table_,
    Div = div,
  })
end
