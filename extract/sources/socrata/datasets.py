"""Facts about the real MyLA311 datasets (shared/reference): where each year lives."""

# "MyLA311 Service Request Data <year>" dataset ids on data.lacity.org (shared/reference notes)
LA311_DATASETS: dict[int, str] = {
    2015: "ms7h-a45h", 2016: "ndkd-k878", 2017: "d4vt-q4t5", 2018: "h65r-yf5i",
    2019: "pvft-t768", 2020: "rq3b-xjk8", 2021: "97z7-y5bt", 2022: "i5ke-k6by",
    2023: "4a4x-mna2", 2024: "b7dx-7gc3", 2025: "h73f-gn57",
}  # fmt: skip
